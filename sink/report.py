"""The partnership report's tables, read from the analytics views as the analyst role only (every
count there already suppressed: ``sink/migrations/0012_report_views.sql``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from core.errors import SinkError
from sink.analytics import ANALYST_ROLE


@dataclass(frozen=True)
class Table:
    """One table of the report, as the view gave it."""

    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


# (table name, statement): the views whole, in a stable order
VIEWS: dict[str, str] = {
    "unique_beneficiaries": "SELECT * FROM analytics.unique_beneficiaries"
    " WHERE quarter <= %(to)s ORDER BY service_code, quarter",
    "new_and_returning": "SELECT * FROM analytics.new_and_returning"
    " WHERE quarter <= %(to)s ORDER BY service_code, quarter",
    "reach_by_area": "SELECT * FROM analytics.reach_by_area ORDER BY area",
    "service_combinations": "SELECT * FROM analytics.service_combinations"
    " ORDER BY families DESC NULLS LAST, services",
    "journey_steps": "SELECT * FROM analytics.journey_steps ORDER BY from_service, to_service",
    "outcome_trends": "SELECT * FROM analytics.outcome_trends"
    " WHERE quarter <= %(to)s ORDER BY tool_code, domain, quarter",
    "outcomes_by_service": "SELECT * FROM analytics.outcomes_by_service"
    " ORDER BY tool_code, service_code",
    "data_quality_league": "SELECT * FROM analytics.data_quality_league ORDER BY source_system",
    "rejections_by_reason": "SELECT * FROM analytics.rejections_by_reason"
    " ORDER BY source_system, kind, code",
}


def read_report(dsn: str, start: dt.date, end: dt.date) -> tuple[int, dict[str, Table]]:
    """(the suppression threshold, every table) for the period ``start``..``end`` (whole
    quarters), in one snapshot, as the analyst role."""
    params = {"from": start, "to": end}
    tables: dict[str, Table] = {}
    try:
        with psycopg.connect(dsn) as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ANALYST_ROLE)))
            threshold = conn.execute("SELECT analytics.threshold()").fetchone()
            headline = conn.execute(
                "SELECT * FROM analytics.reach_in_period(%(from)s, %(to)s)", params
            )
            tables["headline"] = _table("headline", headline)
            for name, statement in VIEWS.items():
                tables[name] = _table(name, conn.execute(statement, params))
    except psycopg.errors.InvalidParameterValue as exc:
        raise SinkError(exc.diag.message_primary or "invalid period") from exc
    except psycopg.errors.UndefinedFunction as exc:
        raise SinkError(
            "the report's views are missing: run `earlylink db migrate` (migration 0012)"
        ) from exc
    assert threshold is not None
    return int(threshold[0]), tables


def _table(name: str, cursor: psycopg.Cursor[tuple[Any, ...]]) -> Table:
    columns = [c.name for c in cursor.description or []]
    return Table(name, columns, cursor.fetchall())


def latest_quarter(dsn: str) -> dt.date | None:
    """The latest quarter with any service contact (the report's default period)."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ANALYST_ROLE)))
        row = conn.execute("SELECT max(quarter) FROM analytics.unique_beneficiaries").fetchone()
    return row[0] if row else None
