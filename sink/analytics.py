"""Reading the analytics schema as the analyst role (aggregates only, least privilege) or, for
the row-level views, as the researcher role, audited; with filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from core.errors import SinkError

ANALYST_ROLE = "earlylink_analyst"
RESEARCHER_ROLE = "earlylink_researcher"
# one row per person, contact or measurement: for the researcher role only (sink/migrations/0008)
ROW_LEVEL_VIEWS = frozenset({"persons", "contacts", "journeys", "outcomes"})


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
    dsn: str,
    view: str,
    filters: dict[str, str],
    limit: int | None,
    order_by: str | None = None,
    *,
    researcher: bool = False,
) -> QueryResult:
    """Rows of ``analytics.<view>`` matching column = value filters, read as the analyst role,
    or (``researcher``) as the researcher role with an ``audit_log`` row naming the view and
    the filtered columns."""
    if view in ROW_LEVEL_VIEWS and not researcher:
        raise SinkError(
            f"{view} is row level: it is for the researcher role (earlylink query --researcher),"
            " and every such query is audited"
        )
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
    role = RESEARCHER_ROLE if researcher else ANALYST_ROLE
    try:
        with psycopg.connect(dsn) as conn, conn.transaction():
            if researcher:
                _audit(conn, view, filters)
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            cursor = conn.execute(statement)
            columns = [c.name for c in cursor.description or []]
            return QueryResult(columns, cursor.fetchall())
    except psycopg.errors.UndefinedColumn as exc:
        raise SinkError(f"{view}: {exc.diag.message_primary}") from exc


def _audit(conn: psycopg.Connection[Any], view: str, filters: dict[str, str]) -> None:
    """Who read row-level data, what and when: the view and filtered columns (no values)."""
    detail = view + (f" where {', '.join(sorted(filters))}" if filters else "")
    conn.execute("SELECT analytics.audit_row_level_query(%s)", (detail,))


def smallest_cell(dsn: str, columns: dict[str, tuple[str, ...]]) -> int | None:
    """The smallest count the given aggregate ``view -> columns`` publish (None: no rows)."""
    smallest = None
    with psycopg.connect(dsn) as conn:
        for view, names in columns.items():
            for column in names:
                query = sql.SQL("SELECT min({}) FROM {}").format(
                    sql.Identifier(column), sql.Identifier("analytics", view)
                )
                row = conn.execute(query).fetchone()
                if row and row[0] is not None:
                    smallest = row[0] if smallest is None else min(smallest, row[0])
    return smallest
