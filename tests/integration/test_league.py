"""The data-quality league on ledger rows: each identifying field's completeness per source,
the town included, from the pseudonymiser's field masks; shares hidden for a small source."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import psycopg

from core.settings import Settings
from sink.analytics import query_view
from sink.ledger import write_ledger
from sink.rows import LedgerEntry, Outcome
from stream_processors.pseudonymise.validate import CleanPerson

LOCALITY = CleanPerson(locality="kingston").present_mask  # the town's bit, as the stage sets it
NHS = CleanPerson(nhs="9434765919").present_mask


def _entries(source: str, masks: list[int], first: int) -> list[tuple[LedgerEntry, int | None]]:
    when = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    return [
        (
            LedgerEntry(
                "raw",
                0,
                first + i,
                Outcome.PSEUDONYMISED,
                source_system=source,
                event_type="PersonRecord",
                event_time=when,
                fields_present=mask,
            ),
            None,
        )
        for i, mask in enumerate(masks)
    ]


def _league(settings: Settings, masks: dict[str, list[int]]) -> dict[str, dict[str, Any]]:
    async def write() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
            first = 0
            for source, rows in masks.items():
                await write_ledger(conn, "league", _entries(source, rows, first), {})
                first += len(rows)

    asyncio.run(write())
    result = query_view(settings.database_dsn, "data_quality_league", {}, None)
    return {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}


def test_town_completeness_per_source_beside_the_other_fields(fresh_settings: Settings) -> None:
    league = _league(
        fresh_settings,
        {
            "cc-towns": [LOCALITY | NHS] * 15 + [NHS] * 5,  # 20 records, 15 with a town
            "hv-none": [NHS] * 12,  # a source writing no town (PersonRecord v2)
            "tiny": [LOCALITY] * 3,  # below the threshold: its shares are not shown
        },
    )
    assert float(league["cc-towns"]["locality_complete"]) == 0.75
    assert float(league["cc-towns"]["nhs_number_coverage"]) == 1.0
    assert float(league["hv-none"]["locality_complete"]) == 0.0
    assert league["tiny"]["locality_complete"] is None
    assert league["tiny"]["nhs_number_coverage"] is None
