"""The receipts agent: raw topic -> decode -> ledger in PostgreSQL, one transaction per batch."""

from __future__ import annotations

import logging
from typing import Any, cast

import faust
import psycopg

from earlylink.settings import Settings
from schemas.catalogue import catalogue
from sink.receipts import write_receipts
from stream_processors.app import make_app
from stream_processors.receipts import RawMessage, next_offsets, receipts_for

log = logging.getLogger(__name__)


def build(settings: Settings) -> faust.App:
    """The faust app with the receipts agent attached."""
    app_id = f"{settings.kafka.topic_prefix}-receipts"
    app = make_app(settings, app_id)
    raw = app.topic(settings.kafka.topic("raw"), value_type=bytes, key_type=bytes)
    contracts = catalogue()
    state: dict[str, Any] = {}

    @app.agent(raw, concurrency=1, name="receipts")
    async def receipts(stream: faust.StreamT[bytes]) -> None:
        conn = await psycopg.AsyncConnection.connect(settings.database_dsn)
        state["conn"] = conn
        async for events in cast(faust.Stream[bytes], stream).take_events(
            settings.processor.batch_size, within=settings.processor.batch_within_s
        ):
            batch = [
                RawMessage(e.message.topic, e.message.partition, e.message.offset, e.value)
                for e in events
            ]
            rows, failed = receipts_for(batch, contracts)
            await write_receipts(conn, app_id, rows, next_offsets(batch))
            for item in failed:
                log.warning(
                    "undecodable event at %s[%d]@%d: %s",
                    item.message.topic,
                    item.message.partition,
                    item.message.offset,
                    item.reason,
                )
            log.info("batch of %d: %d receipts, %d undecodable", len(batch), len(rows), len(failed))

    return app
