"""The analytics schema on a resolved borough: the analyst role sees views only, no tokens,
small numbers suppressed (with secondary suppression), counts near the truth."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from core.errors import SinkError
from core.settings import Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from sink.analytics import query_view, views
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver
from tests.pseudonymised import forwarded

EXCLUDED = ("opted_out", "withdrew_consent", "retracted")


@pytest.fixture(scope="module")
def borough_truth() -> tuple[list[bytes], int]:
    generator = BoroughGenerator(150, 17)
    messages = forwarded(generator.events(), b"a")
    people = {
        row.person_id
        for row in generator.truth()
        if not any(f in row.flags.split(";") for f in EXCLUDED)
    }
    return messages, len(people)


@pytest.fixture
def resolved(
    fresh_settings: Settings, borough_truth: tuple[list[bytes], int]
) -> Iterator[Settings]:
    async def load() -> None:
        resolver = Resolver(fresh_settings, catalogue(), load_model())
        async with await psycopg.AsyncConnection.connect(fresh_settings.database_dsn) as conn:
            messages = borough_truth[0]
            for start in range(0, len(messages), 400):
                async with conn.transaction():
                    await resolver.apply(
                        conn,
                        [
                            RawMessage("p", 0, start + i, v)
                            for i, v in enumerate(messages[start : start + 400])
                        ],
                    )

    asyncio.run(load())
    yield fresh_settings


def _as_analyst(dsn: str, statement: str) -> Any:
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE earlylink_analyst")
        return conn.execute(statement).fetchall()


@pytest.mark.parametrize(
    "table",
    [
        "records",
        "block_keys",
        "term_holders",
        "term_counts",
        "match_edges",
        "memberships",
        "ingest_ledger",
        "service_contacts",
    ],
)
def test_analyst_cannot_read_the_graph(resolved: Settings, table: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_analyst(resolved.database_dsn, f"SELECT * FROM public.{table} LIMIT 1")


def test_views_hold_no_tokens(resolved: Settings) -> None:
    names = views(resolved.database_dsn)
    assert {
        "unique_beneficiaries",
        "reach_by_area",
        "service_combinations",
        "journeys",
        "outcomes",
        "data_quality",
        "persons",
        "contacts",
    } <= set(names)
    from_ledger = {"data_quality_league", "rejections_by_reason"}  # none here: no ledger rows
    for view in names:
        result = query_view(resolved.database_dsn, view, {}, 200, researcher=True)
        assert result.rows or view in from_ledger, view
        assert not {"record_key", "item_key", "token", "payload", "bits"} & set(result.columns)
        for row in result.rows:
            assert not any(isinstance(v, bytes | memoryview) for v in row), view


def test_small_numbers_are_suppressed_with_secondary_suppression(resolved: Settings) -> None:
    rows = query_view(resolved.database_dsn, "unique_beneficiaries", {}, None)
    columns = rows.columns
    by_quarter: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows.rows:
        record = dict(zip(columns, row, strict=True))
        by_quarter[record["quarter"]].append(record)
        for column in ("source_records", "persons", "children", "families"):
            assert record[column] is None or record[column] >= 10
        assert record["suppressed"] == (record["persons"] is None)
    assert any(r["suppressed"] for group in by_quarter.values() for r in group)
    for quarter, group in by_quarter.items():
        suppressed = sum(r["suppressed"] for r in group)
        assert suppressed != 1 or len(group) == 1, quarter  # a total cannot reveal one cell


def test_unique_persons_match_the_truth(
    resolved: Settings, borough_truth: tuple[list[bytes], int]
) -> None:
    persons = query_view(resolved.database_dsn, "persons", {}, None, researcher=True).rows
    true_people = borough_truth[1]
    assert abs(len(persons) - true_people) / true_people < 0.05


@pytest.fixture
def analyst_login(resolved: Settings) -> str:
    """The analyst's own login role (earlylink query connects as it), with its password."""
    return resolved.as_login("analyst").database_dsn


def _smallest(conn: psycopg.Connection[Any], view: str, column: str) -> Any:
    return conn.execute(
        sql.SQL("SELECT min({}) FROM analytics.{}").format(
            sql.Identifier(column), sql.Identifier(view)
        )
    ).fetchone()


def test_the_analyst_cannot_turn_suppression_off(analyst_login: str) -> None:
    with psycopg.connect(analyst_login, autocommit=True) as conn:
        before = _smallest(conn, "service_combinations", "families")
        conn.execute("SET earlylink.small_number_threshold = '1'")  # what the review tried
        assert _smallest(conn, "service_combinations", "families") == before
        assert before[0] is None or before[0] >= 10
        for statement in (
            "UPDATE public.disclosure_settings SET value = 1",
            "CREATE OR REPLACE FUNCTION analytics.threshold() RETURNS int"
            " LANGUAGE sql AS 'SELECT 1'",
            "SET ROLE earlylink_researcher",
            "SET ROLE earlylink_writer",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


@pytest.mark.parametrize("view", ["persons", "contacts", "journeys", "outcomes"])
def test_row_level_views_are_for_the_researcher_only(analyst_login: str, view: str) -> None:
    with (
        psycopg.connect(analyst_login) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(sql.SQL("SELECT * FROM analytics.{} LIMIT 1").format(sql.Identifier(view)))


def test_a_row_level_query_is_audited(resolved: Settings) -> None:
    with pytest.raises(SinkError, match="researcher"):
        query_view(resolved.database_dsn, "persons", {}, 5)
    query_view(resolved.database_dsn, "journeys", {"role": "CHILD"}, 5, researcher=True)
    with psycopg.connect(resolved.database_dsn) as conn:
        audit = conn.execute(
            "SELECT action, reason FROM audit_log WHERE action = 'ROW_LEVEL_QUERY'"
        ).fetchall()
    assert audit == [("ROW_LEVEL_QUERY", "journeys where role")]


def _set_threshold(settings: Settings, value: int) -> None:
    with psycopg.connect(settings.database_dsn) as conn:  # the owner: the one who may
        conn.execute(
            "UPDATE disclosure_settings SET value = %s WHERE name = 'small_number_threshold'",
            (value,),
        )


def _column(settings: Settings, view: str, column: str, key: str) -> dict[Any, Any]:
    result = query_view(settings.database_dsn, view, {}, None)
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    return {r[key]: r[column] for r in rows}


@pytest.mark.parametrize(
    ("view", "column", "key"),
    [
        ("reach_by_area", "persons", "area"),
        ("reach_by_area", "children", "area"),
        ("reach_by_area", "families", "area"),
        ("service_combinations", "families", "services"),
    ],
)
def test_secondary_suppression_in_every_aggregate(
    resolved: Settings, view: str, column: str, key: str
) -> None:
    """With a threshold that leaves exactly one cell of a column small, a second cell is
    suppressed too: the column's total (or the same population counted elsewhere) cannot give
    the small one back."""
    _set_threshold(resolved, 1)
    counts = _column(resolved, view, column, key)
    distinct = sorted(set(counts.values()))
    assert len(distinct) > 2, counts
    threshold = distinct[1]  # exactly the cells of the smallest count fall below it
    alone = [k for k, v in counts.items() if v == distinct[0]]
    _set_threshold(resolved, threshold)
    shown = _column(resolved, view, column, key)
    hidden = [k for k, v in shown.items() if v is None]
    assert set(alone) <= set(hidden)
    assert len(hidden) >= 2, (column, hidden)
    assert all(v is None or v >= threshold for v in shown.values())
