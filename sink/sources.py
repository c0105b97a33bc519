"""The register of source systems (table ``sources``): who may publish events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from core.errors import SinkError


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    enabled: bool
    own_topic: bool
    added_at: Any
    changed_at: Any


def add_sources(
    dsn: str, names: list[str], description: str = "", own_topic: bool = False
) -> list[str]:
    """Register sources (enabled); returns those that were new. Re-adding enables nothing:
    a disabled source stays disabled until ``set_enabled``; ``own_topic`` binds a source (new
    or not) to its own raw topic."""
    added = []
    with psycopg.connect(dsn) as conn:
        for name in names:
            try:
                row = conn.execute(
                    "INSERT INTO sources (name, description, own_topic) VALUES (%s, %s, %s)"
                    " ON CONFLICT (name) DO UPDATE SET own_topic = sources.own_topic OR"
                    " EXCLUDED.own_topic, changed_at = now() RETURNING (xmax = 0)",
                    (name, description, own_topic),
                ).fetchone()
            except psycopg.errors.CheckViolation as exc:
                raise SinkError(
                    f"{name!r} is not a source name: letters, digits and ' ._:/-', up to 100"
                ) from exc
            if row and row[0]:
                added.append(name)
    return added


def set_enabled(dsn: str, name: str, enabled: bool) -> None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "UPDATE sources SET enabled = %s, changed_at = now() WHERE name = %s RETURNING name",
            (enabled, name),
        ).fetchone()
    if row is None:
        raise SinkError(f"no source {name!r} in the register (earlylink sources list)")


def list_sources(dsn: str) -> list[Source]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT name, description, enabled, own_topic, added_at, changed_at FROM sources"
            " ORDER BY name"
        ).fetchall()
    return [Source(*row) for row in rows]


@dataclass(frozen=True)
class RegisterRows:
    enabled: frozenset[str]
    disabled: frozenset[str]
    own_topic: frozenset[str]


async def read_register(conn: psycopg.AsyncConnection[tuple[Any, ...]]) -> RegisterRows:
    """The register's names by state (in a transaction of its own: a bare read would leave
    one open, and the batch's writes after it would never commit)."""
    async with conn.transaction():
        rows = await (await conn.execute("SELECT name, enabled, own_topic FROM sources")).fetchall()
    return RegisterRows(
        frozenset(name for name, enabled, _ in rows if enabled),
        frozenset(name for name, enabled, _ in rows if not enabled),
        frozenset(name for name, _, own in rows if own),
    )


def own_topic_sources(dsn: str) -> list[str]:
    """Sources bound to a raw topic of their own (the pseudonymiser subscribes at start)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT name FROM sources WHERE own_topic ORDER BY name").fetchall()
    return [r[0] for r in rows]
