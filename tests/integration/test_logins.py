"""Least privilege on the real server: the processors connect as their own login roles (no
superuser), which cannot change the audit log or read what their job does not need; every
login authenticates with SCRAM (a wrong password is refused)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import conninfo

from core.settings import Settings
from producers.synthetic.publish import publish_borough
from tests.conftest import wait_pipeline_caught_up


def test_the_processors_connect_as_their_own_logins_not_a_superuser(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Any
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    publish_borough(settings, 10, 3, 0, tmp_path, show_progress=False)
    wait_pipeline_caught_up(settings, pseudo, resolve)
    with psycopg.connect(settings.database_dsn) as conn:
        users = conn.execute(
            "SELECT DISTINCT a.usename, r.rolsuper, r.rolcreaterole, r.rolcreatedb"
            " FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename"
            " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
        ).fetchall()
    assert {u[0] for u in users} == {"earlylink_pseudonymise", "earlylink_resolve"}
    assert not any(flag for _, *flags in users for flag in flags)


@pytest.mark.parametrize(
    ("login", "statement"),
    [
        ("resolve", "DELETE FROM audit_log"),
        ("resolve", "UPDATE audit_log SET reason = 'x'"),
        ("resolve", "TRUNCATE audit_log"),
        ("resolve", "SELECT * FROM ingest_ledger LIMIT 1"),
        ("resolve", "UPDATE disclosure_settings SET value = 1"),
        ("pseudonymise", "SELECT * FROM records LIMIT 1"),
        ("pseudonymise", "DELETE FROM ingest_ledger"),
        ("pseudonymise", "INSERT INTO sources (name) VALUES ('me')"),
        ("analyst", "SELECT * FROM audit_log LIMIT 1"),
        ("researcher", "INSERT INTO audit_log (action) VALUES ('forged')"),
        ("researcher", "SELECT * FROM records LIMIT 1"),
    ],
)
def test_each_login_is_refused_what_its_job_does_not_need(
    fresh_settings: Settings, login: str, statement: str
) -> None:
    with (
        psycopg.connect(fresh_settings.as_login(login).database_dsn) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_the_resolver_can_append_to_the_audit_log(fresh_settings: Settings) -> None:
    with psycopg.connect(fresh_settings.as_login("resolve").database_dsn) as conn:
        conn.execute("INSERT INTO audit_log (action) VALUES ('TEST')")
        (actor,) = conn.execute("SELECT actor FROM audit_log").fetchone() or (None,)
    assert actor == "earlylink_resolve"


@pytest.mark.parametrize("login", [None, "resolve", "analyst"])
def test_a_wrong_password_is_refused(fresh_settings: Settings, login: str | None) -> None:
    settings = fresh_settings.as_login(login) if login else fresh_settings
    wrong = conninfo.make_conninfo(settings.database_dsn, password="not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()
