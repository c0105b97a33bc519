"""The store's traces of linkage, for ``earlylink status``: resolver states, how many person
records are active, and how many links each model version scored (``earlylink.linkage_status``
reads them against the configured model)."""

from __future__ import annotations

import psycopg

from core.errors import SinkError


def stored_linkage(dsn: str, names: list[str]) -> tuple[dict[str, str], int, dict[str, int]]:
    """(``resolver_state`` values of ``names`` that are set, active person records, links per
    model version), on a connection of its own. ``SinkError`` when the store cannot be read
    (its first line says why: no server, no such table before ``earlylink db migrate``)."""
    try:
        return _read(dsn, names)
    except psycopg.Error as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SinkError(f"cannot read the store's linkage state: {first}") from exc


def _read(dsn: str, names: list[str]) -> tuple[dict[str, str], int, dict[str, int]]:
    with psycopg.connect(dsn) as conn:
        states = conn.execute(
            "SELECT name, value FROM resolver_state WHERE name = ANY(%s)", (names,)
        ).fetchall()
        active = conn.execute(
            "SELECT count(*) FROM records WHERE state = 'ACTIVE' AND payload IS NOT NULL"
        ).fetchone()
        links = conn.execute(
            "SELECT model_version, count(*) FROM match_edges GROUP BY model_version"
        ).fetchall()
    return (
        {str(name): str(value) for name, value in states},
        int(active[0]) if active else 0,
        {str(version): int(n) for version, n in links},
    )
