"""Server administration: databases, logins and the configuration reload.

What the stack does to a server it starts (a database for earlylink, one owned by its own login
for the schema registry, the owner's password when a cluster moves to SCRAM) and what the
benchmarks do with scratch databases. Every name goes through ``psycopg.sql.Identifier`` and
every password through ``Literal`` (``ALTER ROLE`` takes no parameters), never an f-string.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def _exists(conn: psycopg.Connection[tuple[object, ...]], catalogue: str, name: str) -> bool:
    query = {
        "database": "SELECT 1 FROM pg_database WHERE datname = %s",
        "role": "SELECT 1 FROM pg_roles WHERE rolname = %s",
    }[catalogue]
    return conn.execute(query, (name,)).fetchone() is not None


def create_database(dsn: str, name: str, owner: str | None = None) -> bool:
    """Create database ``name`` (owned by ``owner`` if given) unless it exists; whether it was."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        if _exists(conn, "database", name):
            return False
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner is not None:
            query = sql.SQL("{} OWNER {}").format(query, sql.Identifier(owner))
        conn.execute(query)
    return True


def drop_database(dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, its open connections closed first."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def drop_databases_like(dsn: str, prefix: str) -> list[str]:
    """Drop every database whose name starts with ``prefix`` (scratch databases a killed
    benchmark left behind); the names dropped."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)
        ).fetchall()
    names = [str(name) for (name,) in rows]
    for name in names:
        drop_database(dsn, name)
    return names


def ensure_login(dsn: str, login: str, password: str) -> None:
    """Make role ``login`` able to log in with ``password`` (made, or given it again)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        verb = "ALTER" if _exists(conn, "role", login) else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(login), sql.Literal(password)
            )
        )


def reload_configuration(dsn: str) -> None:
    """Make the server read pg_hba.conf and postgresql.conf again (no restart)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
