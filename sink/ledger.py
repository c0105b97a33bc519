"""Writes the pseudonymiser's ledger entries and offsets in one transaction (idempotent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from core.errors import SinkError
from sink.bulk import insert_new
from sink.offsets import save_offsets
from sink.rows import LedgerEntry

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LEDGER_COLUMNS = (
    "topic",
    "kafka_partition",
    "kafka_offset",
    "outcome",
    "reason",
    "event_id",
    "source_system",
    "event_type",
    "event_time",
    "raw_timestamp",
    "fields_present",
    "field_issues",
    "transliterated",
    "replayed_from",
)


def _row(entry: LedgerEntry, raw_ms: int | None) -> tuple[Any, ...]:
    raw = EPOCH + dt.timedelta(milliseconds=raw_ms) if raw_ms else None  # exact, to the ms
    return (
        entry.topic,
        entry.partition,
        entry.offset,
        entry.outcome.value,
        entry.reason,
        entry.event_id,
        entry.source_system,
        entry.event_type,
        entry.event_time,
        raw,
        entry.fields_present,
        list(entry.field_issues),
        entry.transliterated,
        entry.replayed_from,
    )


async def write_ledger(
    conn: psycopg.AsyncConnection[tuple[Any, ...]],
    group: str,
    entries: list[tuple[LedgerEntry, int | None]],
    offsets: dict[tuple[str, int], int],
) -> None:
    """Insert ledger rows (replays are no-ops) and advance the group's offsets, atomically."""
    try:
        async with conn.transaction():
            rows = [_row(e, ms) for e, ms in entries]
            await insert_new(conn, "ingest_ledger", LEDGER_COLUMNS, rows)
            await save_offsets(conn, group, offsets)
    except psycopg.OperationalError:
        raise  # the connection went: retryable as it is (see sink.connection.Durable)
    except psycopg.Error as exc:
        where = ", ".join(f"{t}[{p}]<{o}" for (t, p), o in sorted(offsets.items()))
        raise SinkError(f"writing {len(entries)} ledger rows failed ({where}): {exc}") from exc
