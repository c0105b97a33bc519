"""The identity graph's reads on real PostgreSQL that the resolver's plan relies on."""

from __future__ import annotations

import asyncio

import psycopg

from core.settings import Settings
from sink import graph


def _store(conn: psycopg.Connection, members: dict[str, str], links: list[tuple[str, str]]) -> None:
    for key, person in members.items():
        conn.execute(
            "INSERT INTO memberships (record_key, person_id) VALUES (%s, %s)", (key, person)
        )
    for a, b in links:
        for x, y in ((a, b), (b, a)):
            conn.execute(
                "INSERT INTO match_edges (a, b, weight, evidence, model_version)"
                " VALUES (%s, %s, 5.0, '{}', 'm')",
                (x, y),
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
