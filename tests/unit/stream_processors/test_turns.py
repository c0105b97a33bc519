"""Pure work in turns: the same result, and the event loop gets its turns meanwhile."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator

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


def test_a_waiting_coroutine_goes_on_between_turns() -> None:
    """A task waiting on something answered early runs before the work ends, not after."""

    async def scenario() -> tuple[float, float]:
        answered = asyncio.get_running_loop().create_future()
        went_on: list[float] = []

        async def waiting() -> None:
            await answered
            went_on.append(time.perf_counter())

        task = asyncio.create_task(waiting())
        await asyncio.sleep(0)  # the task is waiting
        answered.set_result(None)
        await in_turns(_summing(50, step_s=0.002), 0.005)  # ~0.1 s of work
        ended = time.perf_counter()
        await task
        return went_on[0], ended

    went_on, ended = asyncio.run(scenario())
    assert ended - went_on > 0.05  # it went on near the start of the work


def test_without_turns_the_waiting_coroutine_waits_for_the_end() -> None:
    """The contrast: one long step holds the loop (what ``in_turns`` is for)."""

    async def scenario() -> tuple[float, float]:
        answered = asyncio.get_running_loop().create_future()
        went_on: list[float] = []

        async def waiting() -> None:
            await answered
            went_on.append(time.perf_counter())

        task = asyncio.create_task(waiting())
        await asyncio.sleep(0)
        answered.set_result(None)
        run_through(_summing(50, step_s=0.002))
        ended = time.perf_counter()
        await task
        return went_on[0], ended

    went_on, ended = asyncio.run(scenario())
    assert went_on >= ended
