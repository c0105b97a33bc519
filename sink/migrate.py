"""Numbered SQL migrations (``sink/migrations/NNNN_name.sql``), applied once each, in order.

Each file runs in its own transaction together with its row in ``schema_migrations``, and an
advisory lock keeps two processes from migrating at once, so ``migrate`` is safe to repeat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from core.errors import SinkError

LOCK_KEY = 0x6561726C  # "earl"
NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped in the package, in order."""
    found = []
    for entry in resources.files("sink").joinpath("migrations").iterdir():
        match = NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    numbers = [m.number for m in found]
    if len(numbers) != len(set(numbers)):
        raise SinkError("two migrations share a number")
    return sorted(found, key=lambda m: m.number)


def migrate(dsn: str) -> list[str]:
    """Apply every migration not yet applied; return the names applied now."""
    applied_now: list[str] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " number int PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT number FROM schema_migrations")}
            for migration in available():
                if migration.number in done:
                    continue
                with conn.transaction():
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)",
                        (migration.number, migration.name),
                    )
                applied_now.append(f"{migration.number:04d}_{migration.name}")
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg.Error as exc:
        raise SinkError(f"migration failed: {exc}") from exc
    return applied_now
