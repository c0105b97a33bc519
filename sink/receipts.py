"""Writes receipts and the consumer offsets they cover in one transaction (idempotent)."""

from __future__ import annotations

import psycopg

from earlylink.errors import SinkError
from stream_processors.receipts import Receipt

INSERT_RECEIPT = """
INSERT INTO event_receipts (event_id, source_system, event_type, schema_version, event_time,
                            topic, kafka_partition, kafka_offset)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""

UPSERT_OFFSET = """
INSERT INTO stream_offsets (consumer_group, topic, kafka_partition, next_offset)
VALUES (%s, %s, %s, %s)
ON CONFLICT (consumer_group, topic, kafka_partition)
DO UPDATE SET next_offset = GREATEST(stream_offsets.next_offset, EXCLUDED.next_offset),
              updated_at = now()
"""


async def write_receipts(
    conn: psycopg.AsyncConnection[tuple[object, ...]],
    group: str,
    receipts: list[Receipt],
    offsets: dict[tuple[str, int], int],
) -> None:
    """Insert receipts (replays are no-ops) and advance offsets, atomically."""
    try:
        async with conn.transaction(), conn.cursor() as cur:
            await cur.executemany(
                INSERT_RECEIPT,
                [
                    (
                        r.event_id,
                        r.source_system,
                        r.event_type,
                        r.schema_version,
                        r.event_time,
                        r.topic,
                        r.partition,
                        r.offset,
                    )
                    for r in receipts
                ],
            )
            await cur.executemany(
                UPSERT_OFFSET,
                [
                    (group, topic, partition, offset)
                    for (topic, partition), offset in sorted(offsets.items())
                ],
            )
    except psycopg.Error as exc:
        where = ", ".join(f"{t}[{p}]<{o}" for (t, p), o in sorted(offsets.items()))
        raise SinkError(f"writing {len(receipts)} receipts failed ({where}): {exc}") from exc
