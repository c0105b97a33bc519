"""What the benchmarks share: a throwaway database and topic prefix on the running stack, and
the processors run as real processes against them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from core.errors import ConfigurationError
from core.settings import DatabaseSettings, KafkaSettings, ProcessorSettings, Settings
from earlylink.database import prepare_database
from earlylink.processors import remaining
from earlylink.topics import ensure_topics
from producers.synthetic.services import SERVICES
from sink import admin
from sink.sources import add_sources
from stream_processors.app import remove_data_folders
from stream_processors.resolve.model import Model

SECRET = "5a" * 32  # a throwaway benchmark secret, never a deployment's

#: one line of ``make bench``'s summary: (measure, figure, target or "")
Row = tuple[str, str, str]


def print_summary(rows: list[Row]) -> None:
    """The headline figures of every benchmark that ran, in one markdown table."""
    print("\n### Summary (measured on this machine, in this run)\n")
    print("| measure | figure | target |\n| --- | --- | --- |")
    for measure, figure, target in rows:
        print(f"| {measure} | {figure} | {target} |")


@contextmanager
def scratch(web_port: int = 16090) -> Iterator[Settings]:
    """Settings with their own topics and database (dropped afterwards)."""
    base = Settings()
    run = uuid.uuid4().hex[:6]
    name = f"bench_{run}"
    admin.create_database(base.database_dsn, name)
    settings = Settings(
        kafka=KafkaSettings(**{**base.kafka.model_dump(), "topic_prefix": f"bench-{run}"}),
        database=DatabaseSettings(name=name),
        processor=ProcessorSettings(web_port=web_port),
    )
    ensure_topics(settings.kafka)
    prepare_database(settings)
    add_sources(settings.database_dsn, [s.code for s in SERVICES], "synthetic borough (bench)")
    try:
        yield settings
    finally:
        admin.drop_database(base.database_dsn, name)
        remove_data_folders(settings)


def start_processor(
    settings: Settings, name: str, env: dict[str, str] | None = None, /, **extra: str
) -> subprocess.Popen[bytes]:
    """``earlylink run NAME`` for ``settings`` (warnings only in its output); ``extra`` are
    processor settings (``batch_size=...``), ``env`` any further environment variables."""
    environment = {
        **os.environ,
        "EARLYLINK_KAFKA_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "EARLYLINK_DATABASE_NAME": settings.database.name,
        "EARLYLINK_PSEUDONYMISATION_SECRET": SECRET,
        "EARLYLINK_PROCESSOR_WEB_PORT": str(settings.processor.web_port),
        **{f"EARLYLINK_PROCESSOR_{k.upper()}": v for k, v in extra.items()},
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "earlylink", "run", name, "--loglevel", "warning"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def drain_rate(
    settings: Settings,
    stage: str,
    topic: str,
    workers: int = 1,
    web_port: int = 16200,
    while_draining: Callable[[list[subprocess.Popen[bytes]]], None] | None = None,
    **extra: str,
) -> float:
    """events/s for ``workers`` processes of ``stage`` draining ``topic``'s published backlog,
    from their first commit to their last (``extra``: processor settings, e.g. batch_size;
    ``while_draining`` is called with the workers once they have begun, e.g. to profile them)."""
    name = settings.kafka.topic(topic)
    total = remaining(settings, stage, name)
    procs = [
        start_processor(settings, stage, web_port=str(web_port + 10 * i), **extra)
        for i in range(workers)
    ]
    try:
        while remaining(settings, stage, name) == total:
            time.sleep(0.05)
        started = time.monotonic()
        if while_draining is not None:
            while_draining(procs)
        while remaining(settings, stage, name) > 0:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a {stage} worker exited while draining")
            time.sleep(0.1)
        return total / (time.monotonic() - started)
    finally:
        for proc in procs:
            stop(proc)


def keeping_rules(model: Model, names: Sequence[str]) -> Model:
    """``model`` with only the blocking rules ``names``, in its own order: what a group of
    rules costs end to end and what blocking recall it gives (``--keep-rules``)."""
    have = [rule.name for rule in model.blocking]
    unknown = [name for name in names if name not in have]
    if unknown:
        raise ConfigurationError(
            f"no blocking rule named {', '.join(map(repr, unknown))}; the model has "
            + ", ".join(have)
        )
    data = model.to_json()
    data["blocking"] = [spec for spec in data["blocking"] if spec["name"] in names]
    return Model.from_json(data)


def written_model(model: Model, folder: Path) -> Path:
    """``model`` saved in ``folder``, for processors to read
    (``EARLYLINK_PROCESSOR_MODEL_PATH``)."""
    path = folder / f"model-{model.version}.json"
    model.save(path)
    return path
