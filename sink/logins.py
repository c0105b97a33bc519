"""Passwords of earlylink's login roles (made by sink/migrations/0011), set by the owner from
the settings; the server stores them SCRAM-hashed."""

from __future__ import annotations

import psycopg
from psycopg import sql


def set_passwords(dsn: str, passwords: dict[str, str]) -> None:
    """``passwords``: login role -> password (each set, whether it changed or not)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for role, password in passwords.items():
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
