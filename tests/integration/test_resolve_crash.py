"""kill -9 the resolver mid-stream, twice, and restart it: the identity graph ends equal to a
clean run over the same events (offsets and writes commit together; replays are no-ops)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from earlylink.processors import remaining
from earlylink.settings import DatabaseSettings, KafkaSettings, ProcessorSettings, Settings
from earlylink.topics import ensure_topics
from producers.publisher import Publisher
from sink.migrate import migrate
from tests.integration.test_resolve_order import _resolve, pseudonymised  # noqa: F401 (fixture)


@pytest.fixture
def crash_settings(stack: Settings) -> Iterator[Callable[[], Settings]]:
    """Factory of settings with own topics and database; the databases are dropped after."""
    made: list[str] = []

    def make() -> Settings:
        settings = _settings(stack)
        made.append(settings.database.name)
        return settings

    yield make
    with psycopg.connect(stack.database_dsn, autocommit=True) as conn:
        for name in made:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _settings(stack: Settings) -> Settings:
    run = uuid.uuid4().hex[:8]
    name = f"crash_{run}"
    with psycopg.connect(stack.database_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    settings = Settings(
        paths=stack.paths,
        stack=stack.stack,
        kafka=KafkaSettings(**{**stack.kafka.model_dump(), "topic_prefix": f"crash-{run}"}),
        database=DatabaseSettings(name=name),
        processor=ProcessorSettings(batch_size=40, web_port=16166),
    )
    ensure_topics(settings.kafka)
    migrate(settings.database_dsn)
    return settings


def _start(settings: Settings, log: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EARLYLINK_KAFKA_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "EARLYLINK_DATABASE_NAME": settings.database.name,
        "EARLYLINK_PROCESSOR_BATCH_SIZE": "40",
        "EARLYLINK_PROCESSOR_BATCH_WITHIN_S": "0.05",
        "EARLYLINK_PROCESSOR_WEB_PORT": "16166",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "earlylink", "run", "resolve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait(settings: Settings, proc: subprocess.Popen[bytes], until: int, log_path: Any) -> None:
    topic = settings.kafka.topic("pseudonymised")
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if remaining(settings, "resolve", topic) <= until:
            return
        assert proc.poll() is None, log_path.read_text()[-3000:]
        time.sleep(0.05)
    raise AssertionError(f"resolver too slow:\n{log_path.read_text()[-3000:]}")


def test_kill_nine_mid_stream_then_equal_to_a_clean_run(
    crash_settings: Callable[[], Settings],
    pseudonymised: list[bytes],  # noqa: F811 (the imported fixture)
    tmp_path: Any,
) -> None:
    settings = crash_settings()
    with Publisher(settings.kafka, settings.kafka.topic("pseudonymised")) as publisher:
        for i, value in enumerate(pseudonymised):
            publisher.publish_raw(value, str(i % 97).encode())
    total = len(pseudonymised)
    log_path = tmp_path / "resolve.log"
    kills = 0
    with log_path.open("ab") as log:
        for fraction in (0.75, 0.4):  # kill while this share is still to do
            proc = _start(settings, log)
            _wait(settings, proc, int(total * fraction), log_path)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
        proc = _start(settings, log)
        try:
            _wait(settings, proc, 0, log_path)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert kills == 2

    clean = crash_settings()
    expected = asyncio.run(_resolve(clean, pseudonymised, 40))
    got = asyncio.run(_resolve(settings, [], 40))  # reads the partition without new input
    assert got == expected
    with psycopg.connect(settings.database_dsn) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM service_contacts),"
            " (SELECT count(*) FROM outcome_measures)"
        ).fetchone()
    with psycopg.connect(clean.database_dsn) as conn:
        assert (
            conn.execute(
                "SELECT (SELECT count(*) FROM service_contacts),"
                " (SELECT count(*) FROM outcome_measures)"
            ).fetchone()
            == counts
        )
