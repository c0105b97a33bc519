"""Secrets do not leak sideways: the services earlylink starts get a minimal environment, key
files others can read are refused, and a local .env file is never committed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.settings import PathSettings, PseudonymisationSettings, Settings
from earlylink.stack.process import ManagedProcess
from stream_processors.pseudonymise.keyfiles import load_keyring

ROOT = Path(__file__).resolve().parents[3]
SECRET = "ab" * 32


def test_a_started_service_does_not_inherit_the_master_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARLYLINK_PSEUDONYMISATION_SECRET", SECRET)
    monkeypatch.setenv("EARLYLINK_DATABASE_PASSWORD", "owner-password-value")
    proc = ManagedProcess("env", tmp_path / "env.pid", tmp_path / "env.log", "-c")
    code = "import os, json; print(json.dumps(dict(os.environ)))"
    proc.start([sys.executable, "-c", code], env={"GIVEN": "yes"})
    for _ in range(100):
        if proc.log_file.exists() and proc.log_file.read_text().strip():
            break
        time.sleep(0.05)
    text = proc.log_file.read_text()
    assert SECRET not in text and "owner-password-value" not in text
    assert '"GIVEN": "yes"' in text and '"PATH"' in text  # what it needs, and what it was given


def test_key_files_others_can_read_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    key = folder / "master-v1.key"
    key.write_text(SECRET)
    key.chmod(0o644)
    settings = Settings(
        paths=PathSettings(state_dir=tmp_path, cache_dir=tmp_path),
        pseudonymisation=PseudonymisationSettings(key_dir=folder),
    )
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_keyring(settings)
    key.chmod(0o600)
    assert load_keyring(settings).active == 1


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text(SECRET)
    path.chmod(0o640)
    settings = Settings(
        paths=PathSettings(state_dir=tmp_path, cache_dir=tmp_path),
        pseudonymisation=PseudonymisationSettings(secret_file=path),
    )
    with pytest.raises(ConfigurationError, match="readable by"):
        load_keyring(settings)


def test_dot_env_is_git_ignored() -> None:
    done = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=ROOT, capture_output=True, check=False
    )
    assert done.returncode == 0, ".env (settings and secrets) must be git-ignored"
