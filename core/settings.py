"""Settings, one class per concern, read from the environment (``EARLYLINK_*``) or a ``.env`` file.

Secrets are ``SecretStr`` so they never print. A secret can also come from a file: pydantic-settings
reads ``/run/secrets`` style directories given by ``EARLYLINK_SECRETS_DIR``.
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from psycopg.conninfo import make_conninfo
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.credentials import LOGINS, OWNER, secrets_folder, stored_password


def _secrets_dir() -> str | None:
    value = os.environ.get("EARLYLINK_SECRETS_DIR")
    return value if value and Path(value).is_dir() else None


def connection_string(url: str, **params: str) -> str:
    """``url`` with libpq parameters added or replaced (a password quoted as libpq needs)."""
    return make_conninfo(url, **params)


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        secrets_dir=_secrets_dir(),
    )


class PathSettings(BaseSettings):
    """Where the local stack keeps its downloads (cache) and its data, logs and pids (state)."""

    model_config = _config("EARLYLINK_")

    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "earlylink")
    state_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "state" / "earlylink")


class KafkaSettings(BaseSettings):
    """How clients reach Kafka. ``bootstrap`` set to an external cluster skips the local broker."""

    model_config = _config("EARLYLINK_KAFKA_")

    bootstrap: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = None
    topic_prefix: str = "earlylink"
    partitions: int = 4
    # how long each topic keeps messages (ensure_topics applies a change to existing topics)
    raw_retention_days: float = Field(default=7.0, gt=0)
    pseudonymised_retention_days: float = Field(default=30.0, gt=0)  # and identity changes
    deadletter_retention_days: float = Field(default=7.0, gt=0)  # no longer than the raw topic

    @model_validator(mode="after")
    def _dead_letters_go_with_the_raw(self) -> KafkaSettings:
        if self.deadletter_retention_days > self.raw_retention_days:
            raise ValueError(
                "EARLYLINK_KAFKA_DEADLETTER_RETENTION_DAYS may not exceed"
                " EARLYLINK_KAFKA_RAW_RETENTION_DAYS: dead letters hold raw events too"
            )
        return self

    def client_config(self) -> dict[str, str | int | float | bool]:
        """librdkafka (confluent-kafka) settings for these connection details."""
        config: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            config["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            config["sasl.username"] = self.sasl_username
        if self.sasl_password:
            config["sasl.password"] = self.sasl_password.get_secret_value()
        if self.ssl_ca_location:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config

    def topic(self, name: str) -> str:
        """The full name of one of earlylink's topics."""
        return f"{self.topic_prefix}.{name}"

    def group(self, stage: str) -> str:
        """The consumer group of one of earlylink's stages (``pseudonymise``, ``resolve``)."""
        return f"{self.topic_prefix}-{stage}"


class RegistrySettings(BaseSettings):
    """The Confluent-API schema registry events are framed through (``docs/schemas.md``).

    By default the local stack's Apicurio Registry; ``url`` points at any other one (then it is
    neither started nor stopped here), with basic auth for a secured one. ``enabled=false``
    runs without a registry: Avro single-object encoding only."""

    model_config = _config("EARLYLINK_SCHEMA_REGISTRY_")

    enabled: bool = True
    url: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    ssl_ca_location: Path | None = None

    def endpoint(self, stack: StackSettings) -> str | None:
        """The registry's Confluent-compatible API base URL, or None without a registry."""
        if not self.enabled:
            return None
        return self.url or f"http://127.0.0.1:{stack.registry_port}/apis/ccompat/v7"

    def client_config(self, stack: StackSettings) -> dict[str, str]:
        """confluent-kafka ``SchemaRegistryClient`` settings (empty without a registry)."""
        url = self.endpoint(stack)
        if url is None:
            return {}
        config = {"url": url}
        if self.username:
            secret = self.password.get_secret_value() if self.password else ""
            config["basic.auth.user.info"] = f"{self.username}:{secret}"
        if self.ssl_ca_location:
            config["ssl.ca.location"] = str(self.ssl_ca_location)
        return config


class DatabaseSettings(BaseSettings):
    """The PostgreSQL that holds the identity graph. ``url`` set skips the embedded server.

    ``login`` makes every connection of this process use that least-privileged login role
    instead of the owner (``core.credentials``): the processors run so."""

    model_config = _config("EARLYLINK_DATABASE_")

    url: SecretStr | None = None
    name: str = "earlylink"
    password: SecretStr | None = None  # the embedded server's owner; default: generated
    pseudonymise_password: SecretStr | None = None
    resolve_password: SecretStr | None = None
    analyst_password: SecretStr | None = None
    researcher_password: SecretStr | None = None
    login: Literal["pseudonymise", "resolve", "analyst", "researcher"] | None = None

    def dsn(self, stack: StackSettings, state_dir: Path | None = None) -> str:
        """The connection string: the configured URL, else the embedded server's; as the
        owner, or as ``login``."""
        folder = secrets_folder(state_dir or PathSettings().state_dir)
        if self.url is not None:
            base = self.url.get_secret_value()
        else:
            owner = self.password.get_secret_value() if self.password else None
            base = connection_string(
                f"postgresql://postgres@127.0.0.1:{stack.postgres_port}/{self.name}",
                password=owner or stored_password(folder, OWNER, generate=True),
            )
        if self.login is None:
            return base
        return connection_string(
            base, user=LOGINS[self.login], password=self.login_password(self.login, folder)
        )

    def login_password(self, login: str, folder: Path) -> str:
        given: SecretStr | None = getattr(self, f"{login}_password")
        if given is not None:
            return given.get_secret_value()
        return stored_password(folder, login, generate=self.url is None)


class StackSettings(BaseSettings):
    """Ports and sizes of the local stack's own services."""

    model_config = _config("EARLYLINK_STACK_")

    kafka_version: str = "4.1.1"
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    kafka_heap: str = "1g"
    postgres_port: int = 54329
    postgres_shared_buffers: str = "2GB"
    registry_version: str = "3.0.9"  # Apicurio Registry, its "all" distribution from Maven Central
    registry_port: int = 8081
    registry_heap: str = "256m"  # idle ~260 MB resident; a schema lookup is all it serves
    start_timeout_s: float = 120.0


class ProcessorSettings(BaseSettings):
    """Stream processor tuning."""

    model_config = _config("EARLYLINK_PROCESSOR_")

    # most per event (faust, decoding, scoring) does not depend on it; the per-batch round trips
    # do: end to end on a 150k backlog 4,345 events/s with 1,000, 4,744 with 2,000, 4,686 with
    # 4,000 (bench.end_to_end); at 1,000 events/s batches fill to ~200 within 0.2 s anyway
    batch_size: int = 2000
    batch_within_s: float = 0.2  # p99 0.47 s at 100 events/s (0.5 gave 1.1 s); same throughput
    web_port: int = 6066
    model_path: Path | None = None  # resolver model file; default: the shipped model
    # how many person records the store will hold: the shipped model's prior (the chance that
    # two records picked at random are one person) is 1 / this, about one other record of the
    # same person per record; default: the shipped prior's 40,000. A trained model has its own
    expected_records: int | None = Field(default=None, ge=2)
    block_cap: int = 100  # blocking keys shared by more records than this are skipped
    record_cache: int = 300_000  # resolver: decoded records kept in memory (~3 KiB each)
    # CPython's collector by generation: (new allocations before a young collection, young
    # collections per middle, middle per full). The defaults (700, 10, 10) collect every few
    # events here, promote each batch's short-lived records to the old generations and then
    # scan the resolver's record cache again and again: 4,442 -> 5,042-5,261 events/s end to
    # end, resolver 149 -> 120 µs/event (bench.end_to_end). Objects here die by reference
    # counting; the collector only finds cycles, so collecting less often costs little memory.
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 100)
    wait_for_services_s: float = 300.0  # at start: how long to wait for Kafka and PostgreSQL
    stalled_after_s: float = 30.0  # /health turns 503 when one batch has been landing this long


class PseudonymisationSettings(BaseSettings):
    """Where the master secrets come from: one secret in the environment or a file, or a folder
    of versioned key files (``master-v1.key``, ``master-v2.key``, ...; see ``earlylink keys``)."""

    model_config = _config("EARLYLINK_PSEUDONYMISATION_")

    secret: SecretStr | None = None
    secret_file: Path | None = None
    key_dir: Path | None = None
    # a pseudonymiser without the store's database (producers/at_source.py): the key versions
    # to make tokens under, the store's working one first ("2", or "1,2" while the keys rotate
    # from 1 to 2); the central pseudonymiser reads them from the store before every batch
    key_versions: str = Field(default="1", pattern=r"^[1-9][0-9]*(,[1-9][0-9]*)?$")
    # the dead letters' data keys, one per day (stream_processors/pseudonymise/sealing.py);
    # default: <key dir>/deadletter
    deadletter_key_dir: Path | None = None


class SharedIdScheme(BaseModel):
    """A ``local_ids`` scheme that several sources share, so it can help link them."""

    scheme: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    format: str | None = None  # a regular expression the canonical value must match in full
    check: Literal["none", "mod11", "luhn"] = "none"  # a check digit, where the scheme has one
    unique: bool = True  # one value per person and one person per value: differing = cannot link
    near: bool | None = None  # tokens of one-edit variants (default: only when not unique)

    @field_validator("scheme")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in ("nhs", "upn", "nhs_number", "unique_pupil_number"):
            raise ValueError("NHS and pupil numbers have fields of their own")
        return value

    @field_validator("format")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        import re

        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value


class LinkageSettings(BaseSettings):
    """What the pseudonymiser accepts for linkage: shared identifier schemes (a JSON list in
    ``EARLYLINK_LINKAGE_SHARED_IDS``) and plausible ages (years, lowest and highest) by role,
    against which dates of birth are judged on each record's own date."""

    model_config = _config("EARLYLINK_LINKAGE_")

    shared_ids: list[SharedIdScheme] = Field(default_factory=list)
    child_age_years: tuple[float, float] | None = None  # default: unborn (10 months) to 7
    adult_age_years: tuple[float, float] | None = None  # default: 11 to 90
    # "uk": a postcode that is not a UK one is left out (MALFORMED_POSTCODE); "any": another
    # country's postal code is kept whole (it then has no district, so no clear area either)
    postcodes: Literal["uk", "any"] = "uk"

    @field_validator("shared_ids")
    @classmethod
    def _distinct(cls, value: list[SharedIdScheme]) -> list[SharedIdScheme]:
        names = [s.scheme for s in value]
        if len(set(names)) != len(names):
            raise ValueError("each shared scheme may be declared once")
        return value


class SourcesSettings(BaseSettings):
    """The register of source systems (``earlylink sources``): with ``require_registered``, the
    pseudonymiser dead-letters events whose source is not registered and enabled."""

    model_config = _config("EARLYLINK_SOURCES_")

    require_registered: bool = True
    refresh_s: float = 5.0  # how often the pseudonymiser reads the register again


class Settings:
    """All settings together, each concern read once (or given, as tests do)."""

    def __init__(
        self,
        *,
        paths: PathSettings | None = None,
        kafka: KafkaSettings | None = None,
        registry: RegistrySettings | None = None,
        database: DatabaseSettings | None = None,
        stack: StackSettings | None = None,
        processor: ProcessorSettings | None = None,
        pseudonymisation: PseudonymisationSettings | None = None,
        linkage: LinkageSettings | None = None,
        sources: SourcesSettings | None = None,
    ) -> None:
        self.paths = paths or PathSettings()
        self.kafka = kafka or KafkaSettings()
        self.registry = registry or RegistrySettings()
        self.database = database or DatabaseSettings()
        self.stack = stack or StackSettings()
        self.processor = processor or ProcessorSettings()
        self.pseudonymisation = pseudonymisation or PseudonymisationSettings()
        self.linkage = linkage or LinkageSettings()
        self.sources = sources or SourcesSettings()

    @property
    def key_dir(self) -> Path:
        return self.pseudonymisation.key_dir or self.paths.state_dir / "keys"

    @property
    def processor_dir(self) -> Path:
        """Where the processors keep their faust data folders (one per app id), pids and logs."""
        return self.paths.state_dir / "processors"

    @property
    def deadletter_key_dir(self) -> Path:
        return self.pseudonymisation.deadletter_key_dir or self.key_dir / "deadletter"

    @property
    def database_dsn(self) -> str:
        return self.database.dsn(self.stack, self.paths.state_dir)

    def as_login(self, login: str) -> Settings:
        """These settings, connecting to PostgreSQL as one of earlylink's login roles."""
        settings = copy.copy(self)  # every concern shared but the database's
        settings.database = self.database.model_copy(update={"login": login})
        return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment on first use)."""
    return Settings()
