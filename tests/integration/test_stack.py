"""The local stack: up is idempotent and the services answer."""

from __future__ import annotations

import psycopg

from earlylink.settings import Settings
from earlylink.stack import LocalStack
from sink.migrate import migrate


def test_up_twice_is_fine(stack: Settings) -> None:
    local = LocalStack(stack)
    again = local.up()
    assert set(again.values()) <= {"already running", "running (not started here)", "external"}
    states = {row.name: row.state for row in local.status()}
    assert states["kafka"].startswith("healthy")
    assert states["postgres"].startswith("healthy")


def test_migrations_repeat_without_change(live_settings: Settings) -> None:
    assert migrate(live_settings.database_dsn) == []
    with psycopg.connect(live_settings.database_dsn) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert count is not None and count[0] >= 1
