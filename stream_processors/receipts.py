"""Receipts: turn a batch of raw Kafka messages into ledger rows (pure, no I/O).

This is the first stage every event passes: it proves an event was taken off the raw topic, with
its envelope only. Issue #4's pseudonymiser grows from here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from schemas.catalogue import Catalogue
from schemas.wire import DecodeError, decode


@dataclass(frozen=True)
class RawMessage:
    """One message as it came off Kafka."""

    topic: str
    partition: int
    offset: int
    value: bytes


@dataclass(frozen=True)
class Receipt:
    """The envelope of one decoded event and where it was read from."""

    event_id: uuid.UUID
    source_system: str
    event_type: str
    schema_version: int
    event_time: dt.datetime
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Undecodable:
    """A message that could not be decoded, with its reason code."""

    message: RawMessage
    reason: str


def receipts_for(
    batch: list[RawMessage], contracts: Catalogue
) -> tuple[list[Receipt], list[Undecodable]]:
    """Decode every message; decodable ones become receipts, the rest carry a reason."""
    receipts: list[Receipt] = []
    failed: list[Undecodable] = []
    for message in batch:
        try:
            decoded = decode(message.value, contracts)
        except DecodeError as exc:
            failed.append(Undecodable(message, exc.reason.value))
            continue
        envelope = decoded.record["envelope"]
        receipts.append(
            Receipt(
                event_id=uuid.UUID(str(envelope["event_id"])),
                source_system=envelope["source_system"],
                event_type=decoded.event_type,
                schema_version=decoded.writer_version,
                event_time=envelope["event_time"],
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
            )
        )
    return receipts, failed


def next_offsets(batch: list[RawMessage]) -> dict[tuple[str, int], int]:
    """For each topic-partition in the batch, the offset to resume from."""
    offsets: dict[tuple[str, int], int] = {}
    for message in batch:
        key = (message.topic, message.partition)
        offsets[key] = max(offsets.get(key, 0), message.offset + 1)
    return offsets
