"""kill -9 the resolver mid-stream, twice, and restart it: the identity graph ends equal to a
clean run over the same events (offsets and writes commit together; replays are no-ops)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg

from core.settings import Settings
from earlylink.processors import remaining
from producers.publisher import Publisher
from tests.conftest import processor_env
from tests.integration.test_resolve_order import _resolve, pseudonymised  # noqa: F401 (fixture)


def _start(settings: Settings, log: Any) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **processor_env(settings),
        "EARLYLINK_PROCESSOR_BATCH_SIZE": "40",  # many small batches: kills land mid-stream
        "EARLYLINK_PROCESSOR_BATCH_WITHIN_S": "0.05",
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
    isolated: Callable[..., Settings],
    pseudonymised: list[bytes],  # noqa: F811 (the imported fixture)
    tmp_path: Any,
) -> None:
    settings = isolated(16166)
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

    clean = isolated(16166)
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
