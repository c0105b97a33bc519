"""The resolver counts the store's active records and warns, once, when the store outgrew
the records its model expects (``Resolver.check_size``, ``Model.outgrown``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from prometheus_client import REGISTRY

from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import SIZE_EVERY, Resolver
from tests.pseudonymised import forwarded


def test_a_store_past_twice_the_expected_records_is_reported(
    isolated: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings = isolated()
    messages = forwarded(BoroughGenerator(20, 4).events(), b"z")
    small = Resolver(settings, catalogue(), replace(load_model(), prior=1 / 10))
    sized = Resolver(settings, catalogue(), load_model())

    async def run() -> tuple[int, int, int]:
        async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
            chunk = [RawMessage("p", 0, i, v) for i, v in enumerate(messages)]
            async with conn.transaction():
                await small.apply(conn, chunk)
            held = await small.check_size(conn)
            # nothing left open: the next batch's transaction must be a transaction
            assert conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE
            await small.check_size(conn)  # warned once a process
            await sized.check_size(conn)
            row = await (
                await conn.execute("SELECT count(*) FROM records WHERE state = 'ACTIVE'")
            ).fetchone()
            assert row is not None
            gauge = REGISTRY.get_sample_value("earlylink_store_records", {"kind": "held"})
            return held, int(row[0]), int(gauge or 0)

    due = [small.size_due() for _ in range(2 * SIZE_EVERY)]  # counted every SIZE_EVERY batches
    assert [i for i, d in enumerate(due, 1) if d] == [SIZE_EVERY, 2 * SIZE_EVERY]
    with caplog.at_level(logging.WARNING, logger="stream_processors.resolve_agent"):
        held, active, gauge = asyncio.run(run())
    assert held == active == gauge and held > 20
    outgrown = [r for r in caplog.records if "EARLYLINK_PROCESSOR_EXPECTED_RECORDS" in r.message]
    assert len(outgrown) == 1 and f"{held:,} active records" in outgrown[0].message
