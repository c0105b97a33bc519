"""Kafka messages as the pure stages see them, and the offsets a batch covers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.limits import MAX_TIMESTAMP_MS


@dataclass(frozen=True)
class RawMessage:
    """One message as it came off Kafka."""

    topic: str
    partition: int
    offset: int
    value: bytes
    timestamp_ms: int | None = None
    replayed_from: str | None = None  # a replayed dead letter: the letter's position


def next_offsets(batch: Sequence[RawMessage]) -> dict[tuple[str, int], int]:
    """For each topic-partition in the batch, the offset to resume from."""
    offsets: dict[tuple[str, int], int] = {}
    for message in batch:
        key = (message.topic, message.partition)
        offsets[key] = max(offsets.get(key, 0), message.offset + 1)
    return offsets


def kafka_timestamp_ms(seconds: float | None) -> int | None:
    """A message's Kafka timestamp in ms, or None when it is missing or no date can hold it
    (a producer sets its own: past the year 9999, before 1970)."""
    if not seconds:
        return None
    stamp = int(seconds * 1000)
    return stamp if 0 < stamp <= MAX_TIMESTAMP_MS else None
