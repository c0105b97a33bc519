"""Reading the analytics schema as the analyst role (least privilege), with filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from earlylink.errors import SinkError

ANALYST_ROLE = "earlylink_analyst"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def views(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.views"
            " WHERE table_schema = 'analytics' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def query_view(
    dsn: str, view: str, filters: dict[str, str], limit: int | None, order_by: str | None = None
) -> QueryResult:
    """Rows of ``analytics.<view>`` matching column = value filters, read as the analyst role."""
    known = views(dsn)
    if view not in known:
        raise SinkError(f"no analytics view {view!r}; one of: {', '.join(known)}")
    where = (
        sql.SQL(" AND ").join(
            sql.SQL("{}::text = {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in filters.items()
        )
        if filters
        else sql.SQL("true")
    )
    statement = sql.SQL("SELECT * FROM analytics.{} WHERE {}").format(sql.Identifier(view), where)
    if order_by:
        statement += sql.SQL(" ORDER BY {} DESC NULLS LAST").format(sql.Identifier(order_by))
    if limit:
        statement += sql.SQL(" LIMIT {}").format(sql.Literal(limit))
    try:
        with psycopg.connect(dsn) as conn, conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(ANALYST_ROLE)))
            cursor = conn.execute(statement)
            columns = [c.name for c in cursor.description or []]
            return QueryResult(columns, cursor.fetchall())
    except psycopg.errors.UndefinedColumn as exc:
        raise SinkError(f"{view}: {exc.diag.message_primary}") from exc
