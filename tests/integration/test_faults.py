"""Fault injection on real processes and real services, bounded in time.

While a borough's events are published at a steady rate, the pseudonymiser and the resolver are
killed with SIGKILL at random points (and started again, as a supervisor would), the Kafka
broker is stopped and started, and PostgreSQL is stopped and started. After recovery nothing is
lost and nothing is applied twice: the ledger, the activity tables and the identity graph equal
those of a fault-free run of the same events.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.settings import Settings
from earlylink.stack import LocalStack
from producers.synthetic.publish import PublishResult, publish_borough
from sink.quality import reconcile
from stream_processors.app import WEB_PORT_OFFSET
from tests.conftest import processor_env, wait_pipeline_caught_up
from tests.integration.test_resolve_order import _resolve

FAMILIES, SEED, RATE = 120, 17, 150.0  # ~4,600 events over ~30 s
KILLS_EACH = 4


@dataclass
class Supervised:
    """A processor run as a real process, restarted after each kill (as systemd would)."""

    name: str
    settings: Settings
    log_path: Path
    proc: Any = None
    kills: int = 0
    exits: list[int] = field(default_factory=list)  # exits we did not cause

    def start(self) -> None:
        env = {**processor_env(self.settings), "EARLYLINK_PROCESSOR_BATCH_SIZE": "100"}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "earlylink", "run", self.name],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.proc.log_path = self.log_path

    def check(self) -> None:
        """Restart it if it stopped by itself (and remember that it did)."""
        if self.proc.poll() is not None:
            self.exits.append(self.proc.returncode)
            self.start()

    def kill9(self) -> None:
        self.check()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.kills += 1
        time.sleep(0.3)
        self.start()
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 90) -> None:
        """Until its health endpoint answers (the harness restarts no service meanwhile; a
        worker started while Kafka is down waits for it, but a supervisor is its last line)."""
        port = self.settings.processor.web_port + WEB_PORT_OFFSET[self.name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _restart_kafka(stack: LocalStack) -> None:
    stack.kafka.process.stop(timeout_s=60)
    time.sleep(1.0)
    stack.kafka.up()


def _restart_postgres(stack: LocalStack) -> None:
    stack.postgres.down()
    time.sleep(1.0)
    stack.postgres.up()


def _snapshot(settings: Settings) -> dict[str, Any]:
    """What must be equal after faults: per-outcome ledger counts, activity and audit counts,
    receipts, and the partition of records into persons."""
    with psycopg.connect(settings.database_dsn) as conn:
        ledger = conn.execute(
            "SELECT outcome, coalesce(reason, ''), count(*), count(DISTINCT event_id)"
            " FROM ingest_ledger GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
        counts = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in (
                "records",
                "service_contacts",
                "outcome_measures",
                "audit_log",
                "record_relations",
            )
        }
    partition = asyncio.run(_resolve(settings, [], 100))
    return {"ledger": ledger, "counts": counts, "persons": len(partition), "partition": partition}


def _run_clean(settings: Settings, run_processor: Callable[..., Any], folder: Path) -> Any:
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    result = publish_borough(settings, FAMILIES, SEED, 0, folder, show_progress=False)
    assert result.failed == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 300)
    return result


def _faults_under_load(
    settings: Settings, stack: LocalStack, pseudo: Supervised, resolve: Supervised, tmp_path: Path
) -> tuple[int, float, float, float, Counter[str]]:
    """Publish a borough while the faults happen in a random order; wait until caught up.
    (events, when the faults started, ended, and when the pipeline had caught up, faults)"""
    published: list[PublishResult] = []
    publisher = threading.Thread(
        target=lambda: published.append(
            publish_borough(settings, FAMILIES, SEED, RATE, tmp_path / "f", show_progress=False)
        )
    )
    (tmp_path / "f").mkdir()
    faults: list[tuple[str, Callable[[], None]]] = [
        ("kill pseudonymise", pseudo.kill9)
    ] * KILLS_EACH
    faults += [("kill resolve", resolve.kill9)] * KILLS_EACH
    faults += [("restart kafka", lambda: _restart_kafka(stack))]
    faults += [("restart postgres", lambda: _restart_postgres(stack))]
    schedule = int(os.environ.get("EARLYLINK_FAULT_SEED", time.time_ns() % 10**6))
    print(f"fault schedule seed {schedule} (EARLYLINK_FAULT_SEED repeats it)")
    chance = random.Random(schedule)
    chance.shuffle(faults)
    done: Counter[str] = Counter()
    started = time.monotonic()
    publisher.start()
    time.sleep(2.0)
    for what, fault in faults:
        time.sleep(chance.uniform(0.5, 3.0))
        fault()
        done[what] += 1
    faulted = time.monotonic()
    publisher.join(timeout=300)
    assert published and published[0].failed == 0, "the publisher lost events"
    total = published[0].delivered

    for proc in (pseudo, resolve):
        proc.check()
    wait_pipeline_caught_up(settings, pseudo.proc, resolve.proc, 300)
    recovered = time.monotonic()
    return total, started, faulted, recovered, done


def test_kills_and_restarts_under_load_lose_nothing(
    isolated: Callable[..., Settings],
    run_processor: Callable[..., Any],
    tmp_path: Path,
) -> None:
    settings = isolated(16366)
    stack = LocalStack(settings)
    if not (stack.manages_kafka and stack.manages_postgres):
        pytest.fail("the fault suite restarts Kafka and PostgreSQL: it needs the local stack")
    pseudo = Supervised("pseudonymise", settings, tmp_path / "pseudonymise.log")
    resolve = Supervised("resolve", settings, tmp_path / "resolve.log")
    try:
        for proc in (pseudo, resolve):
            proc.start()
            proc.wait_ready()
        total, started, faulted, recovered, done = _faults_under_load(
            settings, stack, pseudo, resolve, tmp_path
        )
    finally:  # never leave a processor running past the test (it would hold the web ports)
        for proc in (pseudo, resolve):
            if proc.proc is not None and proc.proc.poll() is None:
                proc.stop()
    print(
        f"faults: {dict(done)}; events: {total}; unexpected exits: {pseudo.exits + resolve.exits}"
    )
    assert done["kill pseudonymise"] == KILLS_EACH and done["kill resolve"] == KILLS_EACH
    assert pseudo.exits == [] and resolve.exits == [], "a processor stopped by itself"
    assert all(row.balanced for row in reconcile(settings.database_dsn))

    clean = isolated(16466)
    clean_result = _run_clean(clean, run_processor, tmp_path / "clean")
    print(
        f"faults over {faulted - started:.0f}s, caught up {recovered - faulted:.0f}s later;"
        f" clean run {time.monotonic() - recovered:.0f}s"
    )
    assert clean_result.delivered == total
    got, expected = _snapshot(settings), _snapshot(clean)
    assert sum(n for *_, n, _ in got["ledger"]) == total  # every event once in the ledger
    assert got["ledger"] == expected["ledger"]
    assert got["counts"] == expected["counts"]
    assert got["partition"] == expected["partition"]
