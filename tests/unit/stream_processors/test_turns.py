"""Pure work in turns: the same result, and the event loop gets its turns meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator

import pytest

from stream_processors.turns import in_turns, run_through

pytestmark = pytest.mark.unit


def _summing(n: int, step_s: float = 0.0) -> Generator[None, None, int]:
    total = 0
    for i in range(n):
        yield
        if step_s:
            time.sleep(step_s)
        total += i
    return total


def test_run_through_returns_the_result() -> None:
    assert run_through(_summing(10)) == 45
    assert run_through(_summing(0)) == 0


def test_in_turns_returns_the_same_result() -> None:
    assert asyncio.run(in_turns(_summing(10), 0.001)) == 45


async def _waiter_and_work(work: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """When a task waiting on an answer given before ``work`` starts goes on, and when the
    work ends."""
    answered = asyncio.get_running_loop().create_future()
    went_on: list[float] = []

    async def waiting() -> None:
        await answered
        went_on.append(time.perf_counter())

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0)  # the task is waiting
    answered.set_result(None)
    await work()
    ended = time.perf_counter()
    await task
    return went_on[0], ended


def test_a_waiting_coroutine_goes_on_between_turns() -> None:
    """A task waiting on something answered early runs near the start of the work (~0.1 s
    of it), not after."""

    async def work() -> int:
        return await in_turns(_summing(50, step_s=0.002), 0.005)

    went_on, ended = asyncio.run(_waiter_and_work(work))
    assert ended - went_on > 0.05


def test_without_turns_the_waiting_coroutine_waits_for_the_end() -> None:
    """The contrast: the same work in one go holds the loop (what ``in_turns`` is for)."""

    async def work() -> int:
        return run_through(_summing(50, step_s=0.002))

    went_on, ended = asyncio.run(_waiter_and_work(work))
    assert went_on >= ended
