"""Batches land in the background, one at a time and in order; a failing landing reaches the
guard (in the processors: exit before anything later is committed)."""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from stream_processors.landing import Landing, landing
from stream_processors.messages import RawMessage


def _batch(n: int) -> list[RawMessage]:
    return [RawMessage("raw", 0, n, b"x")]


class Recorder:
    """A guard that records failures instead of ending the process."""

    def __init__(self) -> None:
        self.failed: list[tuple[str, int, str]] = []

    @contextlib.contextmanager
    def __call__(self, stage: str, batch: Sequence[RawMessage]) -> Iterator[None]:
        try:
            yield
        except Exception as exc:  # noqa: BLE001 (the test's stand-in for os._exit)
            self.failed.append((stage, batch[0].offset, type(exc).__name__))


def test_tails_land_one_at_a_time_in_order_while_the_agent_goes_on() -> None:
    log: list[str] = []

    async def tail(n: int, seconds: float) -> None:
        log.append(f"start {n}")
        await asyncio.sleep(seconds)
        log.append(f"end {n}")

    async def run() -> None:
        lands = Landing("test", guard=Recorder())
        await lands.hand_over(tail(1, 0.05), _batch(1))
        assert lands.in_flight  # hand_over returned while batch 1 is still landing
        await asyncio.sleep(0)  # the agent awaits faust for its next batch
        log.append("agent computes batch 2")
        await lands.hand_over(tail(2, 0.01), _batch(2))  # waits for batch 1 first
        await asyncio.sleep(0)
        log.append("agent computes batch 3")
        await lands.hand_over(tail(3, 0.0), _batch(3))
        await lands.settle()
        assert not lands.in_flight

    asyncio.run(run())
    assert log == [
        "start 1",
        "agent computes batch 2",
        "end 1",
        "start 2",
        "agent computes batch 3",
        "end 2",
        "start 3",
        "end 3",
    ]


def test_a_failing_landing_goes_to_the_guard_with_its_batch() -> None:
    guard = Recorder()

    async def failing() -> None:
        raise RuntimeError("the database said no")

    async def run() -> None:
        lands = Landing("resolve", guard=guard)
        await lands.hand_over(failing(), _batch(41))
        await lands.settle()

    asyncio.run(run())
    assert guard.failed == [("resolve", 41, "RuntimeError")]


def test_a_tail_never_started_is_closed_when_the_agent_is_cancelled() -> None:
    started: list[int] = []

    async def tail(n: int, seconds: float) -> None:
        started.append(n)
        await asyncio.sleep(seconds)

    async def run() -> None:
        lands = Landing("test", guard=Recorder())
        await lands.hand_over(tail(1, 10), _batch(1))
        second = asyncio.ensure_future(lands.hand_over(tail(2, 0), _batch(2)))
        await asyncio.sleep(0.01)
        second.cancel()  # the agent stops while batch 2 waits for batch 1
        with pytest.raises(asyncio.CancelledError):
            await second

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine ... was never awaited" would be a warning
        asyncio.run(run())
    assert started == [1]


class App:
    """The part of a faust app ``landing`` uses: its partitions-revoked signal."""

    def __init__(self) -> None:
        self.receivers: list[Any] = []
        self.on_partitions_revoked = self

    def connect(self, handler: Any) -> None:
        self.receivers.append(handler)

    def disconnect(self, handler: Any) -> None:
        self.receivers.remove(handler)


def test_a_rebalance_and_the_agent_stopping_wait_for_the_pending_landing() -> None:
    landed: list[int] = []

    async def tail(n: int) -> None:
        await asyncio.sleep(0.02)
        landed.append(n)

    async def run() -> None:
        app = App()
        async with landing("test", app) as lands:
            await lands.hand_over(tail(1), _batch(1))
            for receiver in app.receivers:  # partitions revoked
                await receiver(app, set())
            assert landed == [1]
            await lands.hand_over(tail(2), _batch(2))
        assert landed == [1, 2]  # the agent's end waited for it
        assert app.receivers == []

    asyncio.run(run())


def test_health_sees_a_batch_that_does_not_land() -> None:
    from stream_processors.metrics import PROGRESS

    gate = asyncio.Event()
    seen: list[float] = []

    async def tail() -> None:
        await gate.wait()

    async def main() -> None:
        lands = Landing("test", Recorder())
        await lands.hand_over(tail(), _batch(1))
        await asyncio.sleep(0.05)
        seen.append(PROGRESS.stalled_s())
        gate.set()
        await lands.settle()
        seen.append(PROGRESS.stalled_s())

    asyncio.run(main())
    assert seen[0] >= 0.04 and seen[1] == 0.0
