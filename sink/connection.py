"""A PostgreSQL connection for a stream processor that survives a database restart.

A processor writes each batch (and its offsets) in one transaction. When the server goes away
mid-batch, the transaction is rolled back by PostgreSQL, so the batch can simply be written
again on a new connection: ``Durable.run`` reconnects with backoff and retries the whole write,
for up to ``give_up_after_s``; after that it raises ``SinkUnavailable`` and the worker stops with a
clear reason (offsets were not advanced, so nothing is lost either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg

from core.errors import SinkUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Conn = psycopg.AsyncConnection[tuple[Any, ...]]
# the server went away or refused the connection: retryable, not the data's fault (the class
# callers outside sink/ catch, so that they need not import psycopg)
ConnectionLost = psycopg.OperationalError


class Durable:
    """Holds one connection; reconnects and retries a unit of work when the server is lost."""

    def __init__(self, dsn: str, what: str, give_up_after_s: float = 300.0) -> None:
        self._dsn = dsn
        self._what = what
        self._give_up_after_s = give_up_after_s
        self._conn: Conn | None = None
        self.reconnects = 0

    async def connection(self) -> Conn:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await psycopg.AsyncConnection.connect(self._dsn)
        return self._conn

    async def run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """``work(conn)`` until it succeeds; connection losses are retried with backoff."""
        deadline = time.monotonic() + self._give_up_after_s
        delay = 0.2
        while True:
            try:
                return await work(await self.connection())
            except psycopg.OperationalError as exc:
                await self._drop()
                if time.monotonic() > deadline:
                    raise SinkUnavailable(
                        f"{self._what}: PostgreSQL unreachable for {self._give_up_after_s:.0f}s"
                    ) from exc
                log.warning(
                    "%s: PostgreSQL connection lost (%s); retrying the batch in %.1fs",
                    self._what,
                    type(exc).__name__,
                    delay,
                )
                self.reconnects += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def close(self) -> None:
        await self._drop()

    async def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None


async def connect(dsn: str) -> Conn:
    """A new connection, for a job that owns it (``async with await connect(dsn) as conn``)."""
    return await psycopg.AsyncConnection.connect(dsn)


def answers(dsn: str, timeout_s: int = 2) -> bool:
    """Whether the database at ``dsn`` takes a connection and a query now."""
    try:
        with psycopg.connect(dsn, connect_timeout=timeout_s) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False
