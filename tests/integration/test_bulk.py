"""COPY-based writes on real PostgreSQL: nothing stored twice, the first of duplicates wins,
and a rolled-back batch leaves the session able to write the next one."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg
import pytest

from core.settings import Settings
from sink.bulk import copy_rows, insert_new

COLUMNS = ("item_key", "note", "tags")


async def _table(conn: psycopg.AsyncConnection[tuple[Any, ...]]) -> str:
    name = f"bulk_{uuid.uuid4().hex[:8]}"
    create = psycopg.sql.SQL("CREATE TABLE {} (item_key text PRIMARY KEY, note text, tags text[])")
    await conn.execute(create.format(psycopg.sql.Identifier(name)))
    await conn.commit()
    return name


async def _rows(conn: psycopg.AsyncConnection[tuple[Any, ...]], table: str) -> list[Any]:
    query = psycopg.sql.SQL("SELECT item_key, note, tags FROM {} ORDER BY item_key")
    cur = await conn.execute(query.format(psycopg.sql.Identifier(table)))
    return await cur.fetchall()


def test_insert_new_keeps_stored_rows_and_the_first_duplicate(live_settings: Settings) -> None:
    async def run() -> list[Any]:
        async with await psycopg.AsyncConnection.connect(live_settings.database_dsn) as conn:
            table = await _table(conn)
            async with conn.transaction():
                await copy_rows(conn, table, COLUMNS, [("a", "stored", ["x"])])
            async with conn.transaction():
                await insert_new(
                    conn,
                    table,
                    COLUMNS,
                    [("a", "replayed", []), ("b", "first", ["y", "z"]), ("b", "second", None)],
                )
                await insert_new(conn, table, COLUMNS, [("c", "same transaction", None)])
            return await _rows(conn, table)

    assert asyncio.run(run()) == [
        ("a", "stored", ["x"]),
        ("b", "first", ["y", "z"]),
        ("c", "same transaction", None),
    ]


def test_a_rolled_back_first_batch_does_not_break_the_next(live_settings: Settings) -> None:
    """The staging table made inside a transaction that rolls back is gone with it."""

    async def run() -> list[Any]:
        async with await psycopg.AsyncConnection.connect(live_settings.database_dsn) as conn:
            table = await _table(conn)
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await insert_new(conn, table, COLUMNS, [("a", "lost", None)])
                    raise RuntimeError("the batch failed after writing")
            async with conn.transaction():
                await insert_new(conn, table, COLUMNS, [("b", "kept", None)])
            return await _rows(conn, table)

    assert asyncio.run(run()) == [("b", "kept", None)]
