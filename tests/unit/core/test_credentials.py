"""Database logins: passwords from the settings or generated once (0600), DSNs per login, and
a trusting pg_hba.conf made to require SCRAM."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from psycopg import conninfo
from pydantic import SecretStr

from core.credentials import stored_password
from core.errors import ConfigurationError
from core.settings import DatabaseSettings, StackSettings
from earlylink.stack.postgres import _scram, _trusting


def test_a_generated_password_is_private_and_kept(tmp_path: Path) -> None:
    first = stored_password(tmp_path / "secrets", "resolve", generate=True)
    assert len(first) >= 24
    assert stored_password(tmp_path / "secrets", "resolve", generate=False) == first
    mode = (tmp_path / "secrets" / "resolve").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_with_a_configured_server_a_missing_password_is_an_error(tmp_path: Path) -> None:
    database = DatabaseSettings(url=SecretStr("postgresql://owner:pw@db:5432/el"), login="resolve")
    with pytest.raises(ConfigurationError, match="EARLYLINK_DATABASE_RESOLVE_PASSWORD"):
        database.dsn(StackSettings(), tmp_path)
    given = database.model_copy(update={"resolve_password": SecretStr("s3cret")})
    parts = conninfo.conninfo_to_dict(given.dsn(StackSettings(), tmp_path))
    assert (parts["user"], parts["password"], parts["host"]) == (
        "earlylink_resolve",
        "s3cret",
        "db",
    )


def test_the_embedded_server_owner_and_logins_authenticate(tmp_path: Path) -> None:
    owner = conninfo.conninfo_to_dict(DatabaseSettings().dsn(StackSettings(), tmp_path))
    analyst = conninfo.conninfo_to_dict(
        DatabaseSettings(login="analyst").dsn(StackSettings(), tmp_path)
    )
    assert owner["user"] == "postgres" and owner["password"]
    assert analyst["user"] == "earlylink_analyst_login"
    assert analyst["password"] and analyst["password"] != owner["password"]


def test_a_trusting_hba_file_is_made_to_require_scram() -> None:
    hba = "# TYPE DATABASE USER METHOD\nlocal all all trust\nhost all all 127.0.0.1/32 trust\n"
    assert _trusting(hba)
    lines = [_scram(line) for line in hba.splitlines()]
    assert lines[1:] == ["local all all scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256"]
    assert not _trusting("\n".join(lines))
    assert lines[0].startswith("#")
