"""Reads the consumer offsets the processors commit to PostgreSQL with their writes."""

from __future__ import annotations

from typing import Any

import psycopg

UPSERT_OFFSET = """
INSERT INTO stream_offsets (consumer_group, topic, kafka_partition, next_offset)
VALUES (%s, %s, %s, %s)
ON CONFLICT (consumer_group, topic, kafka_partition)
DO UPDATE SET next_offset = GREATEST(stream_offsets.next_offset, EXCLUDED.next_offset),
              updated_at = now()
"""


async def save_offsets(
    conn: psycopg.AsyncConnection[tuple[Any, ...]], group: str, offsets: dict[tuple[str, int], int]
) -> None:
    """Advance the group's offsets (inside the caller's transaction)."""
    async with conn.cursor() as cur:
        await cur.executemany(
            UPSERT_OFFSET,
            [
                (group, topic, partition, offset)
                for (topic, partition), offset in sorted(offsets.items())
            ],
        )


def committed_offsets(dsn: str, group: str, topic: str) -> dict[int, int]:
    """partition -> next offset to read, for one group and topic."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT kafka_partition, next_offset FROM stream_offsets "
            "WHERE consumer_group = %s AND topic = %s",
            (group, topic),
        ).fetchall()
    return {int(p): int(o) for p, o in rows}


async def stored_offsets(
    conn: psycopg.AsyncConnection[tuple[Any, ...]], group: str
) -> dict[tuple[str, int], int]:
    """(topic, partition) -> next offset to read, for every topic of one group: the positions
    committed with the writes, which a worker resumes from (they, not Kafka's, are the truth)."""
    async with conn.cursor() as cur:
        await cur.execute(
            "SELECT topic, kafka_partition, next_offset FROM stream_offsets"
            " WHERE consumer_group = %s",
            (group,),
        )
        rows = await cur.fetchall()
    return {(str(t), int(p)): int(o) for t, p, o in rows}
