"""Batches land in the background, in order, while the agent takes and works on the next one.

A batch *lands* when its output is acknowledged by Kafka and its writes and offsets are
committed in PostgreSQL. That tail is mostly waiting (broker acks, database round trips and the
database's own CPU), and faust fills an agent's next batch only after the agent has handed the
current one back. Run strictly in turn (take, compute, flush, commit), each processor idles
through every tail; handed to ``Landing`` instead, the tail of batch N overlaps with faust
filling batch N+1 and the agent computing it.

The guarantees do not change:

- tails run one at a time and in batch order (a tail starts only when the previous one has
  landed), so offsets advance in order and at most one batch is in flight;
- a tail that fails ends the process through the same guard as a failing batch
  (``exit_on_failure``), before anything later can be committed; the restart resumes from the
  offsets stored with the last landed batch and replays the rest (the ledger ignores repeated
  positions, the resolver repeated event ids, stored offsets only move forward);
- before partitions move in a rebalance, and before a stopping agent returns, the pending tail
  is awaited (``settle``), so the next owner resumes after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from stream_processors.app import exit_on_failure
from stream_processors.messages import RawMessage
from stream_processors.metrics import PROGRESS

Guard = Callable[[str, Sequence[RawMessage]], contextlib.AbstractContextManager[None]]


class Landing:
    """At most one batch's tail in flight; each starts when the one before it has landed."""

    def __init__(self, stage: str, guard: Guard = exit_on_failure) -> None:
        self.stage = stage
        self._guard = guard
        self._pending: asyncio.Task[None] | None = None

    async def hand_over(self, tail: Coroutine[Any, Any, None], batch: Sequence[RawMessage]) -> None:
        """Wait for the previous batch to land, then land this one in the background."""
        try:
            await self.settle()
        except BaseException:
            tail.close()  # never started: nothing of this batch was committed
            raise
        self._pending = asyncio.ensure_future(self._land(tail, batch))

    async def settle(self) -> None:
        """Return when every batch handed over so far has landed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    @property
    def in_flight(self) -> bool:
        return self._pending is not None and not self._pending.done()

    async def _land(self, tail: Coroutine[Any, Any, None], batch: Sequence[RawMessage]) -> None:
        PROGRESS.landing()
        with self._guard(self.stage, batch):
            await tail
        PROGRESS.landed()


@contextlib.asynccontextmanager
async def landing(stage: str, app: Any) -> Any:
    """A ``Landing`` for one agent: settled when partitions are revoked and when the agent
    stops (``app``: the faust app whose rebalances it waits through)."""
    lands = Landing(stage)

    async def on_revoked(*_args: Any, **_kwargs: Any) -> None:
        await lands.settle()

    app.on_partitions_revoked.connect(on_revoked)
    try:
        yield lands
    finally:
        app.on_partitions_revoked.disconnect(on_revoked)
        await lands.settle()
