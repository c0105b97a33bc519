"""The register of source systems (table ``sources``): who may publish events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from earlylink.errors import SinkError


@dataclass(frozen=True)
class Source:
    name: str
    description: str
    enabled: bool
    added_at: Any
    changed_at: Any


def add_sources(dsn: str, names: list[str], description: str = "") -> list[str]:
    """Register sources (enabled); returns those that were new. Re-adding enables nothing:
    a disabled source stays disabled until ``set_enabled``."""
    added = []
    with psycopg.connect(dsn) as conn:
        for name in names:
            try:
                row = conn.execute(
                    "INSERT INTO sources (name, description) VALUES (%s, %s)"
                    " ON CONFLICT (name) DO NOTHING RETURNING name",
                    (name, description),
                ).fetchone()
            except psycopg.errors.CheckViolation as exc:
                raise SinkError(
                    f"{name!r} is not a source name: letters, digits and ' ._:/-', up to 100"
                ) from exc
            if row:
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
            "SELECT name, description, enabled, added_at, changed_at FROM sources ORDER BY name"
        ).fetchall()
    return [Source(*row) for row in rows]


async def read_register(
    conn: psycopg.AsyncConnection[tuple[Any, ...]],
) -> tuple[frozenset[str], frozenset[str]]:
    """(enabled, disabled) source names (in a transaction of its own: a bare read would leave
    one open, and the batch's writes after it would never commit)."""
    async with conn.transaction():
        rows = await (await conn.execute("SELECT name, enabled FROM sources")).fetchall()
    return (
        frozenset(name for name, enabled in rows if enabled),
        frozenset(name for name, enabled in rows if not enabled),
    )
