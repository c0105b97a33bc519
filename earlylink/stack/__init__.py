"""The local stack: Kafka (KRaft) and PostgreSQL, started, checked and stopped by earlylink.

A service whose URL is configured (``EARLYLINK_KAFKA_BOOTSTRAP`` pointing elsewhere,
``EARLYLINK_DATABASE_URL``) is used as it is and never started or stopped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from earlylink.settings import Settings
from earlylink.stack.kafka import KafkaNode
from earlylink.stack.postgres import PostgresNode
from earlylink.stack.process import ManagedProcess


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str
    endpoint: str
    pid: int | None
    memory_mib: float | None
    detail: str


class LocalStack:
    """The services of one state folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kafka = KafkaNode(settings.paths, settings.stack, settings.kafka)
        self.postgres = PostgresNode(settings.paths, settings.stack, settings.database)

    @property
    def manages_kafka(self) -> bool:
        return self.settings.kafka.bootstrap == f"127.0.0.1:{self.settings.stack.kafka_port}"

    @property
    def manages_postgres(self) -> bool:
        return self.settings.database.url is None

    def up(self) -> dict[str, str]:
        """Start what is ours and not running; returns what was done per service."""
        self.settings.paths.state_dir.mkdir(parents=True, exist_ok=True)
        done: dict[str, str] = {}
        done["postgres"] = self.postgres.up() if self.manages_postgres else "external"
        done["kafka"] = self.kafka.up() if self.manages_kafka else "external"
        return done

    def down(self, purge: bool = False) -> dict[str, str]:
        """Stop what we started (by pid); delete data only with ``purge``."""
        done: dict[str, str] = {}
        if self.manages_kafka:
            done["kafka"] = "stopped" if self.kafka.process.stop(timeout_s=60) else "not running"
            if purge:
                self.kafka.purge()
        if self.manages_postgres:
            done["postgres"] = "stopped" if self.postgres.down() else "not running"
            if purge:
                self.postgres.purge()
        return done

    def processes(self) -> dict[str, ManagedProcess]:
        return {"kafka": self.kafka.process, "postgres": self.postgres.process}

    def status(self) -> list[ServiceStatus]:
        kafka_ok = self.kafka.healthy()
        pg_ok = self.postgres.healthy() if self.manages_postgres else None
        registry = self.settings.registry.url
        return [
            self._row(
                "kafka",
                self.kafka.process,
                kafka_ok,
                self.settings.kafka.bootstrap,
                f"Apache Kafka {self.settings.stack.kafka_version} KRaft"
                if self.manages_kafka
                else "external",
            ),
            self._row(
                "postgres",
                self.postgres.process,
                pg_ok,
                f"127.0.0.1:{self.settings.stack.postgres_port}"
                if self.manages_postgres
                else "EARLYLINK_DATABASE_URL",
                "embedded-postgres" if self.manages_postgres else "external",
            ),
            ServiceStatus(
                "schemas",
                "registry" if registry else "catalogue",
                registry or "schemas/*.avsc",
                None,
                None,
                "Confluent wire format" if registry else "Avro single-object encoding",
            ),
        ]

    @staticmethod
    def _row(
        name: str, proc: ManagedProcess, healthy: bool | None, endpoint: str, detail: str
    ) -> ServiceStatus:
        pid = proc.pid()
        state = "healthy" if healthy else ("starting/unhealthy" if pid else "stopped")
        if healthy and pid is None:
            state = "healthy (not ours)"
        return ServiceStatus(name, state, endpoint, pid, proc.memory_mib(), detail)
