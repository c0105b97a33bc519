"""Shared fixtures: factories for events, and (for integration/e2e) the real local stack.

Integration tests never skip: if Kafka or PostgreSQL cannot be brought up, the session fails
with the reason and the service's log tail.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.errors import EarlylinkError
from core.settings import DatabaseSettings, KafkaSettings, ProcessorSettings, Settings
from schemas.models import Envelope, PersonRecord, Role
from sink import admin


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by its folder so ``-m unit`` etc. select the layers."""
    for item in items:
        for layer in ("unit", "integration", "e2e"):
            if f"tests/{layer}/" in str(item.fspath):
                item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture
def make_envelope() -> Callable[..., Envelope]:
    def make(source: str = "hv-mandated-checks", version: int = 1, **kw: Any) -> Envelope:
        return Envelope(
            event_id=kw.pop("event_id", uuid.uuid4()),
            event_time=kw.pop("event_time", dt.datetime.now(dt.UTC)),
            source_system=source,
            schema_version=version,
        )

    return make


@pytest.fixture
def make_person(make_envelope: Callable[..., Envelope]) -> Callable[..., PersonRecord]:
    """Factory for a plausible person record; override any field by keyword."""

    def make(**overrides: Any) -> PersonRecord:
        fields: dict[str, Any] = {
            "envelope": make_envelope(overrides.pop("source", "hv-mandated-checks"), version=2),
            "record_id": f"rec-{uuid.uuid4().hex[:8]}",
            "record_version": 1,
            "role": Role.CHILD,
            "given_names": "Amara",
            "family_name": "Okafor",
            "date_of_birth": dt.date(2024, 3, 14),
            "postcode": "SE11 5QY",
        }
        fields.update(overrides)
        return PersonRecord(**fields)

    return make


# --------------------------------------------------------------------------- real services


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def stack(base_settings: Settings) -> Iterator[Settings]:
    """The local stack, up (started here if needed, stopped at the end if we started it)."""
    from earlylink.stack import LocalStack

    local = LocalStack(base_settings)
    was_running = local.healthy()
    try:
        local.up()
    except EarlylinkError as exc:
        pytest.fail(f"the local stack did not come up: {exc}", pytrace=False)
    yield base_settings
    if not was_running and not os.environ.get("EARLYLINK_KEEP_STACK"):
        local.down()


def _isolated(stack: Settings, web_port: int) -> tuple[Settings, str]:
    """Settings with their own topics (fresh prefix) and their own database."""
    from earlylink.database import prepare_database
    from earlylink.topics import ensure_topics
    from sink.sources import add_sources

    run = uuid.uuid4().hex[:8]
    db_name = f"earlylink_test_{run}"
    admin.create_database(stack.database_dsn, db_name)
    base_db = stack.database
    database = DatabaseSettings(
        name=db_name,
        url=_swap_db(base_db.url.get_secret_value(), db_name) if base_db.url else None,
    )
    settings = Settings(
        paths=stack.paths,
        stack=stack.stack,
        registry=stack.registry,
        kafka=KafkaSettings(**{**stack.kafka.model_dump(), "topic_prefix": f"test-{run}"}),
        database=database,
        processor=ProcessorSettings(batch_size=200, batch_within_s=0.2, web_port=web_port),
    )
    ensure_topics(settings.kafka)
    prepare_database(settings)
    from producers.synthetic.services import SERVICES

    add_sources(settings.database_dsn, [*TEST_SOURCES, *(s.code for s in SERVICES)], "tests")
    return settings, db_name


# the source systems the tests publish as (and the synthetic borough's services), registered in
# each test database (the register is required, as in a deployment: tests/integration/
# test_sources.py shows the refusals)
TEST_SOURCES = (
    "hv-mandated-checks",
    "health-visiting",
    "childrens-centre",
    "early-education",
    "outside-producer",
    "canary-service",
    "at-source-service",
    "childrens-centre-north",
    "febrl1",
    "febrl2",
    "hv",
    "cc",
)


def _drop(stack: Settings, db_name: str, settings: Settings | None = None) -> None:
    """The test's database, its processors' data folders and its topics (a broker kept
    across many runs otherwise gathers tens of thousands of partitions and runs out of file
    descriptors)."""
    admin.drop_database(stack.database_dsn, db_name)
    if settings is not None:
        from confluent_kafka.admin import AdminClient

        from stream_processors.app import remove_data_folders

        remove_data_folders(settings)

        kafka = AdminClient(settings.kafka.client_config())
        prefix = settings.kafka.topic_prefix + "."
        ours = [t for t in kafka.list_topics(timeout=10).topics if t.startswith(prefix)]
        if ours:
            for future in kafka.delete_topics(ours, operation_timeout=30).values():
                future.exception(timeout=60)  # gone, or already gone: either will do


@pytest.fixture(scope="session")
def live_settings(stack: Settings) -> Iterator[Settings]:
    """Settings shared by this session's tests: own topics and own database."""
    settings, db_name = _isolated(stack, 16066)
    yield settings
    _drop(stack, db_name, settings)


@pytest.fixture
def isolated(stack: Settings) -> Iterator[Callable[..., Settings]]:
    """Factory: settings with their own topics and database (dropped after the test)."""
    made: list[tuple[str, Settings]] = []

    def make(web_port: int = 16266) -> Settings:
        settings, db_name = _isolated(stack, web_port)
        made.append((db_name, settings))
        return settings

    yield make
    for db_name, settings in made:
        _drop(stack, db_name, settings)


@pytest.fixture
def fresh_settings(isolated: Callable[..., Settings]) -> Settings:
    """Settings for one test that must see only its own events."""
    return isolated()


def _swap_db(url: str, name: str) -> str:
    head, _, tail = url.rpartition("/")
    query = tail.partition("?")[2]
    return f"{head}/{name}" + (f"?{query}" if query else "")


@pytest.fixture
def db(live_settings: Settings) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    with psycopg.connect(live_settings.database_dsn, autocommit=True) as conn:
        yield conn


def processor_env(settings: Settings) -> dict[str, str]:
    """Environment for a processor subprocess using ``settings``' topics and database."""
    env = {
        "EARLYLINK_KAFKA_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "EARLYLINK_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "EARLYLINK_DATABASE_NAME": settings.database.name,
        "EARLYLINK_PROCESSOR_WEB_PORT": str(settings.processor.web_port),
        "EARLYLINK_PROCESSOR_BATCH_WITHIN_S": "0.2",
        "EARLYLINK_PSEUDONYMISATION_SECRET": TEST_SECRET,
    }
    if settings.database.url:
        env["EARLYLINK_DATABASE_URL"] = settings.database.url.get_secret_value()
    return env


TEST_SECRET = "4f" * 32  # a throwaway test secret (hex), never a deployment's


@pytest.fixture
def run_processor(live_settings: Settings, tmp_path: Any) -> Iterator[Callable[..., Any]]:
    """Start ``earlylink run NAME`` as a real process (for ``settings``, default the session's,
    with any further environment variables given by keyword); stopped at the end of the test."""
    import subprocess
    import sys

    started: list[subprocess.Popen[bytes]] = []

    def start(
        name: str, settings: Settings | None = None, unset: tuple[str, ...] = (), **env: str
    ) -> Any:
        """``unset``: variables the process must not see (e.g. the test secret, for keys
        read from a key folder instead)."""
        log_path = tmp_path / f"{name}.log"
        environment = {**os.environ, **processor_env(settings or live_settings), **env}
        for variable in unset:
            environment.pop(variable, None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "earlylink", "run", name],
            env=environment,
            stdout=log_path.open("ab"),
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log_path  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_caught_up(
    settings: Settings, name: str, topic: str, proc: Any, timeout_s: float = 180
) -> None:
    """Wait until processor ``name`` has committed all of ``topic`` (fails with its log)."""
    import time

    from earlylink.processors import remaining

    deadline = time.monotonic() + timeout_s
    left = -1
    while time.monotonic() < deadline:
        left = remaining(settings, name, topic)
        if left == 0:
            return
        if proc.poll() is not None:
            pytest.fail(f"{name} exited:\n{proc.log_path.read_text()[-4000:]}")
        time.sleep(0.5)
    pytest.fail(f"{name} still {left} behind:\n{proc.log_path.read_text()[-4000:]}")


def wait_pipeline_caught_up(
    settings: Settings, pseudo: Any, resolve: Any, timeout_s: float = 180
) -> None:
    """Wait until both stages have committed everything published so far (raw, then
    pseudonymised: the resolver's input is complete only once the pseudonymiser is done)."""
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo, timeout_s)
    wait_caught_up(settings, "resolve", settings.kafka.topic("pseudonymised"), resolve, timeout_s)


def outside_decoder(settings: Settings) -> Callable[[bytes, str], Any]:
    """A consumer that is not ours: confluent-kafka's own ``AvroDeserializer`` with
    ``SchemaRegistryClient`` and the registry's URL, no earlylink code in the decoding."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient(settings.registry.client_config(settings.stack))
    deserializer = AvroDeserializer(client)

    def decode(value: bytes, topic: str) -> Any:
        return deserializer(value, SerializationContext(topic, MessageField.VALUE))

    return decode


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=8000",
]


def run_chromium(args: list[str], profile: Path) -> str:
    """Run headless chromium with ``args``; its standard output (e.g. ``--dump-dom``)."""
    import shutil
    import subprocess

    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is required (apt-get install chromium); .ci/run installs it"
    done = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
