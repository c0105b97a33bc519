"""A batch that keeps failing is bisected down to the messages that fail alone: those are
quarantined, everything else lands, in order; service failures are not isolated."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg
import pytest

from core.errors import SinkError, SinkUnavailable
from stream_processors.isolate import failure_reason, write_isolating
from stream_processors.messages import RawMessage


def _batch(n: int) -> list[RawMessage]:
    return [RawMessage("t", i % 2, i, b"x") for i in range(n)]


class Sink:
    """Writes fail whenever a poison offset is among them."""

    def __init__(self, poison: set[int], error: Exception | None = None) -> None:
        self.poison = poison
        self.error = error or psycopg.errors.NotNullViolation("null in item_key")
        self.landed: list[list[int]] = []
        self.quarantined: list[tuple[int, str]] = []
        self.writes = 0

    async def write(self, part: Sequence[RawMessage]) -> int:
        self.writes += 1
        if any(m.offset in self.poison for m in part):
            raise SinkError("writing failed") from self.error
        self.landed.append([m.offset for m in part])
        return len(part)

    async def quarantine(self, message: RawMessage, reason: str) -> None:
        self.quarantined.append((message.offset, reason))


def test_a_clean_batch_is_written_once() -> None:
    sink = Sink(set())
    assert asyncio.run(write_isolating("s", _batch(8), sink.write, sink.quarantine)) == [8]
    assert sink.writes == 1 and not sink.quarantined


@pytest.mark.parametrize("poison", [{0}, {7}, {3, 4}, {0, 99}, set(range(100))])
def test_each_poison_message_is_quarantined_and_the_rest_lands_in_order(poison: set[int]) -> None:
    sink = Sink(poison)
    results = asyncio.run(write_isolating("s", _batch(100), sink.write, sink.quarantine))
    landed = [offset for part in sink.landed for offset in part]
    assert landed == [i for i in range(100) if i not in poison]
    assert sum(results) == len(landed)
    assert sink.quarantined == [(i, "NotNullViolation") for i in sorted(poison)]
    # bounded: two tries of the batch, then one per part of the bisection
    assert sink.writes <= 2 + 2 * len(poison) * 7 + 1


def test_service_failures_are_not_isolated() -> None:
    for error in (psycopg.OperationalError("server closed"), SinkUnavailable("gone")):
        sink = Sink({5})

        async def write(part: Sequence[RawMessage], error: Exception = error) -> int:
            raise error

        with pytest.raises(type(error)):
            asyncio.run(write_isolating("s", _batch(10), write, sink.quarantine))
        assert not sink.quarantined


def test_the_reason_is_the_innermost_type_never_the_message() -> None:
    try:
        try:
            raise psycopg.errors.DataError("NUL in 'Ash\x00down'")
        except psycopg.Error as exc:
            raise SinkError("writing 3 rows failed: NUL in 'Ash\x00down'") from exc
    except SinkError as outer:
        assert failure_reason(outer) == "DataError"
