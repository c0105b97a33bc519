"""Pure work taken in turns, so that a coroutine waiting on the database goes on when answered.

A processor decodes the next batch while the batch before it lands (``landing``); decoding is
CPU work on the event loop's thread. Done in one go it holds the loop for the whole batch,
and each statement of the landing batch that is answered meanwhile waits for it to end.
Written as a generator that yields after each small step, the same work gives the loop back
every ``turn_s`` seconds, so the database and the decoding overlap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")


def run_through(steps: Generator[None, None, T]) -> T:
    """The steps' result, all at once."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


async def in_turns(steps: Generator[None, None, T], turn_s: float) -> T:
    """The steps' result, giving the event loop a turn whenever ``turn_s`` has passed."""
    until = time.perf_counter() + turn_s
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if time.perf_counter() >= until:
            await asyncio.sleep(0)
            until = time.perf_counter() + turn_s
