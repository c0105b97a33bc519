"""Reads the consumer offsets the processors commit to PostgreSQL with their writes."""

from __future__ import annotations

import psycopg


def committed_offsets(dsn: str, group: str, topic: str) -> dict[int, int]:
    """partition -> next offset to read, for one group and topic."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT kafka_partition, next_offset FROM stream_offsets "
            "WHERE consumer_group = %s AND topic = %s",
            (group, topic),
        ).fetchall()
    return {int(p): int(o) for p, o in rows}
