"""The key versions the store links under, as the processors read and confirm them.

The state itself is a ``resolver_state`` row (written by ``earlylink keys rotate``); the
pseudonymiser reads it through the ``key_versions`` view (migration 0016) and records what
its batches use in ``key_versions_confirmed``, the only two things of it it may touch.
"""

from __future__ import annotations

from sink.connection import Conn


async def stored_key_versions(conn: Conn) -> str | None:
    row = await (await conn.execute("SELECT value FROM key_versions")).fetchone()
    return str(row[0]) if row else None


async def confirm(conn: Conn, processor: str, versions: str) -> None:
    """Record that ``processor``'s batches are made under ``versions`` from now on."""
    await conn.execute(
        "INSERT INTO key_versions_confirmed (processor, versions) VALUES (%s, %s)"
        " ON CONFLICT (processor) DO UPDATE SET versions = EXCLUDED.versions, updated_at = now()",
        (processor, versions),
    )


async def confirmed(conn: Conn, processor: str) -> str | None:
    row = await (
        await conn.execute(
            "SELECT versions FROM key_versions_confirmed WHERE processor = %s", (processor,)
        )
    ).fetchone()
    return str(row[0]) if row else None
