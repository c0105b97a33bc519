"""Bulk row writes with COPY: one round trip and one statement per batch instead of one INSERT
per row (each pipelined INSERT still costs a parse-bind-execute on the server and a dump in
psycopg; COPY streams the rows).

- ``copy_rows``: COPY straight into a table, for rows that cannot already be there (the caller
  deleted them, or holds the lock that makes it the only writer).
- ``insert_new``: rows that may already be there (replays, duplicate events) go through a
  session-local staging table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` in
  the rows' order, so the first of two rows with the same key wins, as with row-by-row inserts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql

Conn = psycopg.AsyncConnection[tuple[Any, ...]]


def _columns(columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


@lru_cache(maxsize=64)
def _copy_query(table: str, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), _columns(columns))


@lru_cache(maxsize=64)
def _staging_queries(table: str, columns: tuple[str, ...]) -> tuple[sql.Composed, sql.Composed]:
    """(make the staging table, move its new rows into ``table``), composed once per table."""
    stage, target, cols = sql.Identifier(f"stage_{table}"), sql.Identifier(table), _columns(columns)
    make = sql.SQL(
        "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS "
        "SELECT {}, 0::bigint AS stage_ord FROM {} WITH NO DATA"
    ).format(stage, cols, target)
    move = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM {} ORDER BY stage_ord ON CONFLICT DO NOTHING"
    ).format(target, cols, cols, stage)
    return make, move


async def copy_rows(
    conn: Conn, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY ``rows`` into ``table`` (``columns`` in row order) inside the caller's transaction."""
    async with conn.cursor() as cur, cur.copy(_copy_query(table, tuple(columns))) as copy:
        for row in rows:
            await copy.write_row(row)


async def insert_new(
    conn: Conn, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert the ``rows`` whose unique key is not in ``table`` yet; the first of duplicates wins.

    The staging table is made on first use in each session (asked every time: a batch that
    made it and then rolled back took it with it) and emptied by the commit. A second call in
    the same transaction sees the first call's rows again; they are stored, so skipped."""
    if not rows:
        return
    make, move = _staging_queries(table, tuple(columns))
    await conn.execute(make)
    staged = (*columns, "stage_ord")
    await copy_rows(conn, f"stage_{table}", staged, ((*r, i) for i, r in enumerate(rows)))
    await conn.execute(move)


def copy_ceiling(dsn: str, rows: int, payload: bytes) -> float:
    """Rows a second one COPY writes into a table shaped like the raw landing table (its key and
    a ``payload``): the database's ceiling for landing, measured in a scratch table ``ceiling``
    of ``dsn`` (the benchmarks' scratch database)."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE TABLE ceiling (topic text, part int, off bigint, event_id uuid,"
            " payload bytea, PRIMARY KEY (topic, part, off))"
        )
        started = time.perf_counter()
        with conn.cursor().copy(
            "COPY ceiling (topic, part, off, event_id, payload) FROM STDIN"
        ) as copy:
            for i in range(rows):
                copy.write_row(("raw", i % 4, i, f"00000000-0000-4000-8000-{i:012d}", payload))
        conn.commit()
        return rows / (time.perf_counter() - started)
