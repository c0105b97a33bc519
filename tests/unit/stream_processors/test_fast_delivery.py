"""The fetcher's fast path: a delivery that need not wait skips faust's race; one that waits
continues in it, and a flow suspension still interrupts it."""

from __future__ import annotations

import asyncio
from typing import Any

from mode import Service

from stream_processors.fast_delivery import fast_wait_first


class Race:
    """faust's own ``wait_first`` (a real mode Service), counting its calls."""

    def __init__(self) -> None:
        self.service = Service()
        self.calls = 0

    async def __call__(self, *coros: Any, timeout: float | None = None) -> Any:
        self.calls += 1
        if timeout is None:  # mode's annotation says Seconds; its default is None
            return await self.service.wait_first(*coros)
        return await self.service.wait_first(*coros, timeout=timeout)


def test_a_delivery_that_need_not_wait_skips_the_race() -> None:
    async def run() -> tuple[Any, int]:
        race, flow = Race(), asyncio.Event()
        delivered: list[str] = []

        async def deliver() -> str:
            delivered.append("m1")
            return "ok"

        result = await fast_wait_first(race, flow)(deliver(), flow.wait())
        return (result.done and result.results, delivered), race.calls

    (results, delivered), calls = asyncio.run(run())
    assert results == ["ok"] and delivered == ["m1"]
    assert calls == 0


def test_a_delivery_that_waits_for_room_finishes_in_the_race() -> None:
    async def run() -> tuple[list[Any], int]:
        race, flow = Race(), asyncio.Event()
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        await queue.put("m1")  # full: the next put must wait

        async def consume_later() -> None:
            await asyncio.sleep(0.05)
            await queue.get()

        taker = asyncio.create_task(consume_later())
        await fast_wait_first(race, flow)(queue.put("m2"), flow.wait())
        await taker
        return [queue.get_nowait()], race.calls

    items, calls = asyncio.run(run())
    assert items == ["m2"] and calls == 1


def test_a_flow_suspension_interrupts_a_waiting_delivery() -> None:
    async def run() -> tuple[Any, bool]:
        race, flow = Race(), asyncio.Event()
        gate = asyncio.Event()
        cancelled = False

        async def deliver() -> None:
            nonlocal cancelled
            try:
                await gate.wait()  # never opened
            except asyncio.CancelledError:
                cancelled = True
                raise

        async def suspend_soon() -> None:
            await asyncio.sleep(0.05)
            flow.set()

        suspender = asyncio.create_task(suspend_soon())
        result = await fast_wait_first(race, flow)(deliver(), flow.wait())
        await suspender
        await asyncio.sleep(0)  # let the cancelled delivery unwind
        return result, cancelled

    result, cancelled = asyncio.run(run())
    assert result.results == [True]  # the suspension won
    assert cancelled


def test_other_calls_and_a_suspended_flow_go_to_faust_unchanged() -> None:
    async def run() -> int:
        race, flow = Race(), asyncio.Event()
        wait_first = fast_wait_first(race, flow)

        async def quick() -> str:
            return "x"

        await wait_first(quick(), timeout=1.0)
        flow.set()
        await wait_first(quick(), flow.wait())
        return race.calls

    assert asyncio.run(run()) == 2
