"""The identity graph's reads on real PostgreSQL that the resolver's plan relies on."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import psycopg

from core.settings import Settings
from sink import graph
from sink.rows import RecordRow, ScoredEdge


def _store(conn: psycopg.Connection, members: dict[str, str], links: list[tuple[str, str]]) -> None:
    for key, person in members.items():
        conn.execute(
            "INSERT INTO memberships (record_key, person_id) VALUES (%s, %s)", (key, person)
        )
    for a, b in links:  # each link once, a < b
        conn.execute(
            "INSERT INTO match_edges (a, b, weight, evidence, model_version)"
            " VALUES (%s, %s, 5.0, '{}', 'm')",
            (min(a, b), max(a, b)),
        )


def test_open_records_are_those_whose_person_has_a_link_out_of_it(
    fresh_settings: Settings,
) -> None:
    """P1 holds all its links; P2 has one to P3 that the constraints refused (so its
    clustering depends on the links' order); r9 belongs to no person yet."""
    members = {"r1": "P1", "r2": "P1", "r3": "P1", "r4": "P2", "r5": "P2", "r6": "P3"}
    links = [("r1", "r2"), ("r2", "r3"), ("r4", "r5"), ("r5", "r6")]
    with psycopg.connect(fresh_settings.database_dsn, autocommit=True) as conn:
        _store(conn, members, links)

    async def run() -> list[str]:
        async with await psycopg.AsyncConnection.connect(fresh_settings.database_dsn) as conn:
            return await graph.open_records(conn, ["r1", "r3", "r4", "r6", "r9"])

    assert asyncio.run(run()) == ["r4", "r6", "r9"]


def test_each_link_is_stored_once_and_found_from_either_end(fresh_settings: Settings) -> None:
    """A link is one row (a < b, however it was scored); the graph's reads find it from
    either record, and re-weighing or unlinking a pair touches that row."""
    edges = [ScoredEdge("r2", "r1", 6.0, {}), ScoredEdge("r2", "r3", 7.0, {})]

    async def run() -> tuple[list[tuple[str, str]], list[str], list[str], int, int, int]:
        async with await psycopg.AsyncConnection.connect(fresh_settings.database_dsn) as conn:
            await graph.replace_edges(conn, ["r2"], edges, "m")
            rows = await (await conn.execute("SELECT a, b FROM match_edges ORDER BY a")).fetchall()
            found = [
                await graph.component(conn, ["r1"]),
                await graph.component(conn, ["r3"]),
            ]
            among = len(await graph.edges_among(conn, ["r1", "r2", "r3"]))
            within = len(await graph.links_within(conn, ["r1", "r2"]))
            await graph.replace_pair_edges(conn, [("r1", "r2"), ("r2", "r3")], [edges[0]], "m2")
            left = await (await conn.execute("SELECT count(*) FROM match_edges")).fetchone()
            assert left is not None
            return [(a, b) for a, b in rows], found[0], found[1], among, within, int(left[0])

    rows, from_r1, from_r3, among, within, left = asyncio.run(run())
    assert rows == [("r1", "r2"), ("r2", "r3")]
    assert from_r1 == from_r3 == ["r1", "r2", "r3"]
    assert (among, within, left) == (2, 1, 1)
    with psycopg.connect(fresh_settings.database_dsn) as conn:
        row = conn.execute("SELECT a, b, weight, model_version FROM match_edges").fetchone()
    assert row == ("r1", "r2", 6.0, "m2")


def test_two_versions_of_a_record_in_one_write_leave_the_newer(fresh_settings: Settings) -> None:
    """One statement writes the batch's records: of two rows of one record (in either order)
    the newer is stored, and an older version than the stored one changes nothing."""
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def row(key: str, version: int) -> RecordRow:
        return RecordRow(
            key, "hv", "CHILD", version, "ACTIVE", "PERMITTED", uuid.uuid4(), at, b"v", None
        )

    async def run() -> dict[str, int]:
        async with await psycopg.AsyncConnection.connect(fresh_settings.database_dsn) as conn:
            await graph.upsert_records(conn, [row("r1", 1), row("r1", 2), row("r2", 3)])
            await graph.upsert_records(conn, [row("r2", 5), row("r2", 4)])
            await graph.upsert_records(conn, [row("r1", 1)])  # older than stored: no-op
            got = await (
                await conn.execute("SELECT record_key, record_version FROM records")
            ).fetchall()
            return {k: int(v) for k, v in got}

    assert asyncio.run(run()) == {"r1": 2, "r2": 5}
