"""Apicurio Registry, run from its ready-to-run distribution (the app module's ``all`` zip on
Maven Central), serving the Confluent-compatible API at ``/apis/ccompat/v7``.

Its storage is SQL on our PostgreSQL, in a database of its own (``earlylink_registry``) owned by
a login of its own: schema ids then survive ``stack down``/``up`` and a registry restart, are
backed up with the rest of the server, and no other store has to be run. (KafkaSQL would keep
them in a topic, but a topic's loss would renumber every schema; in-memory loses them at once.)
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.credentials import secrets_folder, stored_password
from core.errors import StackError
from core.settings import PathSettings, StackSettings
from earlylink.stack.postgres import PostgresNode
from earlylink.stack.process import ManagedProcess, run_checked, wait_until

DATABASE = "earlylink_registry"
LOGIN = "earlylink_registry"
PASSWORD_NAME = "registry"  # noqa: S105 - the name of its file in the secrets folder


@dataclass(frozen=True)
class RegistryNode:
    """The local registry's files and process."""

    paths: PathSettings
    stack: StackSettings
    postgres: PostgresNode

    @property
    def home(self) -> Path:
        return self.paths.state_dir / "registry"

    @property
    def dist(self) -> Path:
        return self.paths.cache_dir / f"apicurio-registry-{self.stack.registry_version}"

    @property
    def runner(self) -> Path:
        return self.dist / f"apicurio-registry-app-{self.stack.registry_version}-runner.jar"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.stack.registry_port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            name="registry",
            pid_file=self.home / "registry.pid",
            log_file=self.home / "registry.log",
            marker=f"-Dearlylink.home={self.home}",
        )

    def fetch(self) -> None:
        """Download and unpack the distribution into the cache, once per version."""
        marker = self.dist / ".complete"
        if marker.exists():
            return
        if shutil.which("mvn") is None:
            raise StackError("Maven (mvn) is needed to fetch Apicurio Registry; install it first")
        download = self.paths.cache_dir / "downloads"
        artifact = f"io.apicurio:apicurio-registry-app:{self.stack.registry_version}:zip:all"
        run_checked(
            [
                "mvn",
                "-B",
                "-q",
                "-s",
                str(Path(__file__).with_name("maven-settings.xml")),
                "dependency:copy",
                f"-Dartifact={artifact}",
                f"-DoutputDirectory={download}",
            ],
            what=f"fetching Apicurio Registry {self.stack.registry_version} from Maven Central",
        )
        archive = download / f"apicurio-registry-app-{self.stack.registry_version}-all.zip"
        shutil.rmtree(self.dist, ignore_errors=True)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(self.dist)
        archive.unlink()
        marker.touch()

    def password(self) -> str:
        return stored_password(secrets_folder(self.paths.state_dir), PASSWORD_NAME, generate=True)

    def ensure_storage(self) -> None:
        """The registry's own login and database on our PostgreSQL (made once)."""
        self.postgres.ensure_service_database(DATABASE, LOGIN, self.password())

    def java(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise StackError("Java 17+ is needed to run Apicurio Registry; install a JDK first")
        heap = self.stack.registry_heap
        return [
            java,
            "-Xms64m",
            f"-Xmx{heap}",
            "-XX:+UseSerialGC",  # one small heap on a 2-core machine: no parallel collector
            "-XX:TieredStopAtLevel=1",  # starts faster and smaller; it serves a few lookups
            f"-Dearlylink.home={self.home}",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={self.stack.registry_port}",
            "-Dquarkus.http.access-log.enabled=false",  # a line per request; the audit log stays
            # a small pool, each connection checked before use: after a PostgreSQL restart no
            # request fails on a connection the server closed
            "-Dapicurio.datasource.jdbc.initial-size=2",
            "-Dapicurio.datasource.jdbc.min-size=2",
            "-Dapicurio.datasource.jdbc.max-size=10",
            "-Dquarkus.datasource.postgresql.jdbc.validate-on-borrow=true",
            "-Dquarkus.datasource.postgresql.jdbc.validation-query-sql=SELECT 1",
            "-Dapicurio.storage.kind=sql",
            "-Dapicurio.storage.sql.kind=postgresql",
            f"-Dapicurio.datasource.url=jdbc:postgresql://127.0.0.1:{self.stack.postgres_port}"
            f"/{DATABASE}",
            f"-Dapicurio.datasource.username={LOGIN}",
            "-jar",
            str(self.runner),
        ]

    def healthy(self) -> bool:
        """True when the registry reports itself ready (its database reachable)."""
        try:
            ready = f"{self.url}/health/ready"  # http on 127.0.0.1, built here
            with urllib.request.urlopen(ready, timeout=2) as answer:  # noqa: S310
                return bool(json.load(answer).get("status") == "UP")
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def up(self) -> str:
        """Fetch, prepare its storage and start; wait until ready."""
        if self.healthy():
            return "already running" if self.process.pid() else "running (not started here)"
        self.fetch()
        self.ensure_storage()
        self.home.mkdir(parents=True, exist_ok=True)
        # the password through the environment, never on a command line others can read
        self.process.start(self.java(), env={"APICURIO_DATASOURCE_PASSWORD": self.password()})
        wait_until(self.healthy, self.stack.start_timeout_s, "Apicurio Registry", self.process)
        return "started"

    def down(self) -> bool:
        return self.process.stop(timeout_s=30)

    def purge(self) -> None:
        """Forget the registry's files (its schemas live in PostgreSQL, purged with it)."""
        shutil.rmtree(self.home, ignore_errors=True)
