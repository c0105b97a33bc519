"""The resolver's quarantine read and marked for operators (``earlylink quarantine``).

The rows are what ``Resolver.quarantine`` set aside: a pseudonymised message (tokens and
encodings only, never an identifier) with its position and reason. A row is replayed at most
once: ``mark_replayed`` sets it only where it is not set, so two operators replaying at once
cannot both count one row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row


@dataclass(frozen=True)
class Quarantined:
    topic: str
    partition: int
    offset: int
    source_system: str | None
    event_type: str | None
    reason: str
    quarantined_at: dt.datetime
    replayed_at: dt.datetime | None
    replayed_to: str | None
    payload: bytes

    @property
    def code(self) -> str:
        """The reason's code: what comes before any ':' ("KEY_VERSION_RETIRED: ..." -> the
        first word; an exception's type stands alone)."""
        return self.reason.split(":", 1)[0].strip()

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)


def quarantined(dsn: str, code: str | None = None, replayed: bool = False) -> list[Quarantined]:
    """The rows set aside, in position order: those with reason ``code`` (any, if None), and
    with those already replayed only when ``replayed``."""
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=class_row(Quarantined)) as cur:
        cur.execute(
            'SELECT topic, kafka_partition AS partition, kafka_offset AS "offset", source_system,'
            " event_type, reason, quarantined_at, replayed_at, replayed_to, payload"
            " FROM resolve_quarantine WHERE (%s OR replayed_at IS NULL)"
            " AND (%s::text IS NULL OR split_part(reason, ':', 1) = %s)"
            " ORDER BY topic, kafka_partition, kafka_offset",
            (replayed, code, code),
        )
        return cur.fetchall()


def mark_replayed(dsn: str, done: dict[tuple[str, int, int], str]) -> int:
    """Mark the rows at the positions of ``done`` replayed, to where its value says; returns
    how many were marked now (a row already marked stays as it was)."""
    if not done:
        return 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.executemany(
            "UPDATE resolve_quarantine SET replayed_at = now(), replayed_to = %s"
            " WHERE topic = %s AND kafka_partition = %s AND kafka_offset = %s"
            " AND replayed_at IS NULL",
            [(to, *position) for position, to in done.items()],
        )
        return max(cur.rowcount, 0)
