"""The stream processors as background processes (used by the demo and the tests' e2e runs)."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.errors import ConfigurationError, StackError
from core.settings import Settings
from earlylink.stack.process import ManagedProcess
from sink.offsets import committed_offsets
from stream_processors.lag import STAGES, PartitionLag, end_offsets, lag_of

PROCESSORS = ("pseudonymise", "resolve")


def processor(settings: Settings, name: str) -> ManagedProcess:
    folder = settings.processor_dir
    folder.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        name=name,
        pid_file=folder / f"{name}.pid",
        log_file=folder / f"{name}.log",
        marker=f"earlylink run {name}",
    )


def stage_status(settings: Settings, stage: str) -> dict[str, Any] | None:
    """The live figures a running stage serves at /status.json, or None if it does not answer."""
    from stream_processors.app import WEB_PORT_OFFSET

    url = f"http://127.0.0.1:{settings.processor.web_port + WEB_PORT_OFFSET[stage]}/status.json"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(json.loads(response.read()))
    except (OSError, ValueError):
        return None


def group_of(settings: Settings, name: str) -> str:
    return settings.kafka.group(name)


@contextmanager
def running(
    settings: Settings, names: tuple[str, ...] = PROCESSORS, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Start the processors (if not running) for the duration of the block, with our
    environment plus ``env``."""
    started = []
    for name in names:
        proc = processor(settings, name)
        if proc.pid() is None:
            proc.start([sys.executable, "-m", "earlylink", "run", name], env=env, inherit=True)
            started.append(proc)
    try:
        yield
    finally:
        for proc in started:
            proc.stop(timeout_s=30)


STAGE_INPUT = dict(STAGES)  # processor -> the topic it reads


def check_offsets(settings: Settings, name: str) -> None:
    """Refuse to run a processor whose stored offsets are past its input topic's end: the topic
    was deleted and made again (or truncated) after those offsets were stored, so the messages
    at the offsets below them now are new ones, and resuming would skip them unread."""
    topic = settings.kafka.topic(STAGE_INPUT[name])
    ahead = [p for p in _lags(settings, name, topic) if p.committed > p.end]
    if ahead:
        where = ", ".join(f"{topic}[{p.partition}] {p.committed:,} > {p.end:,}" for p in ahead)
        raise ConfigurationError(
            f"{name}: the offsets stored in the database are past the end of its input topic"
            f" ({where}): the topic was made again, or truncated, after this database last read"
            " it, and resuming would skip its messages. Use a database and topics that belong"
            " together: a fresh start (`earlylink stack down --purge`), or another"
            " EARLYLINK_KAFKA_TOPIC_PREFIX with another EARLYLINK_DATABASE_NAME"
        )


def remaining(settings: Settings, name: str, topic: str) -> int:
    """Messages of ``topic`` the processor has not yet committed."""
    return sum(p.lag for p in _lags(settings, name, topic))


def _lags(settings: Settings, name: str, topic: str) -> list[PartitionLag]:
    """The processor's stored offsets on each partition of ``topic``, against its end."""
    ends = end_offsets(settings.kafka, topic)
    done = committed_offsets(settings.database_dsn, group_of(settings, name), topic)
    return lag_of(done, ends, topic)


def wait_caught_up(
    settings: Settings, name: str, topic: str, timeout_s: float, on_progress: object = None
) -> float:
    """Block until ``name`` has committed everything in ``topic``; return the seconds taken."""
    started = time.monotonic()
    proc = processor(settings, name)
    while True:
        left = remaining(settings, name, topic)
        if callable(on_progress):
            on_progress(left)
        if left == 0:
            return time.monotonic() - started
        if proc.pid() is None:
            raise StackError(f"processor {name} stopped. Last log lines:\n{proc.log_tail()}")
        if time.monotonic() - started > timeout_s:
            raise StackError(
                f"processor {name} still {left} messages behind after "
                f"{timeout_s:.0f}s. Last log lines:\n{proc.log_tail()}"
            )
        time.sleep(1.0)


def _kafka_answers(settings: Settings) -> bool:
    from confluent_kafka.admin import AdminClient

    try:
        admin = AdminClient({**settings.kafka.client_config(), "log_level": 0})
        return len(admin.list_topics(timeout=2).brokers) > 0
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def _database_answers(settings: Settings) -> bool:
    from sink.connection import answers

    return answers(settings.database_dsn)


def wait_for_services(settings: Settings, timeout_s: float) -> None:
    """Block until Kafka and PostgreSQL answer, so a worker started while either is restarting
    waits for it instead of failing its first connection; raise after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    for what, answers in (("Kafka", _kafka_answers), ("PostgreSQL", _database_answers)):
        told = False
        while not answers(settings):
            if time.monotonic() > deadline:
                raise StackError(f"{what} did not answer within {timeout_s:.0f}s")
            if not told:
                print(f"waiting for {what} ...", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.5)
