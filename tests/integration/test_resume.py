"""A worker resumes from the offsets stored in PostgreSQL with its writes, not from Kafka's:
when Kafka's committed offsets run ahead of what was written (faust acks a batch torn down
mid-write), the restarted worker reads the missing events again and nothing is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from core.settings import Settings
from producers.synthetic.publish import publish_borough
from tests.conftest import wait_caught_up


def _ledger_rows(settings: Settings) -> int:
    with psycopg.connect(settings.database_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM ingest_ledger").fetchone()
    assert row is not None
    return int(row[0])


def test_resumes_at_the_stored_offsets_even_behind_kafkas(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Path
) -> None:
    settings = fresh_settings
    raw = settings.kafka.topic("raw")
    published = publish_borough(settings, 10, 5, 0, tmp_path, show_progress=False)
    first = run_processor("pseudonymise", settings)
    wait_caught_up(settings, "pseudonymise", raw, first, 120)
    first.terminate()
    first.wait(timeout=30)
    assert _ledger_rows(settings) == published.delivered  # and Kafka's offsets are at the end

    # the last writes are lost (as if their transaction had rolled back after faust acked)
    with psycopg.connect(settings.database_dsn) as conn:
        conn.execute("DELETE FROM ingest_ledger WHERE kafka_offset >= 20")
        conn.execute("UPDATE stream_offsets SET next_offset = 20 WHERE topic = %s", (raw,))
    assert _ledger_rows(settings) < published.delivered

    second = run_processor("pseudonymise", settings)
    wait_caught_up(settings, "pseudonymise", raw, second, 120)
    assert _ledger_rows(settings) == published.delivered


def test_a_processor_refuses_offsets_past_its_topics_end(fresh_settings: Settings) -> None:
    """A topic made again (or truncated) behind a database that read it before: resuming at
    the stored offsets would skip every message below them unread. The processor, the demo
    and the reconciliation refuse, saying why; nothing is skipped silently."""
    import os
    import subprocess
    import sys

    from tests.conftest import processor_env

    settings = fresh_settings
    raw = settings.kafka.topic("raw")
    with psycopg.connect(settings.database_dsn) as conn:
        conn.execute(
            "INSERT INTO stream_offsets (consumer_group, topic, kafka_partition, next_offset)"
            " VALUES (%s, %s, 0, 500)",
            (settings.kafka.group("pseudonymise"), raw),
        )
    env = {**os.environ, **processor_env(settings), "COLUMNS": "250"}
    for command in (["run", "pseudonymise"], ["reconcile"]):
        done = subprocess.run(
            [sys.executable, "-m", "earlylink", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        said = done.stdout + done.stderr
        assert done.returncode == 1, said
        assert "past" in said and "Traceback" not in said, said
