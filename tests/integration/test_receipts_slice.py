"""The first vertical slice on real services: producer -> faust agent -> PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import psycopg

from earlylink.settings import Settings
from producers.publisher import Publisher
from schemas.models import PersonRecord


def _wait_for(
    db: psycopg.Connection[tuple[Any, ...]],
    sql: str,
    want: int,
    proc: subprocess.Popen[bytes],
    timeout_s: float = 90,
) -> int:
    deadline = time.monotonic() + timeout_s
    got = -1
    while time.monotonic() < deadline:
        row = db.execute(sql).fetchone()
        got = row[0] if row else -1
        if got >= want:
            return int(got)
        assert proc.poll() is None, "the processor exited early"
        time.sleep(0.5)
    return int(got)


def test_events_arrive_as_receipts_once(
    live_settings: Settings,
    child_env: dict[str, str],
    db: psycopg.Connection[tuple[Any, ...]],
    make_person: Callable[..., PersonRecord],
    tmp_path: Any,
) -> None:
    events = [make_person(record_id=f"slice-{i}") for i in range(20)]
    with Publisher(live_settings.kafka, live_settings.kafka.topic("raw")) as publisher:
        for event in events:
            publisher.publish(event)
        publisher.publish(events[0])  # a replay of the same event id
        publisher.publish_raw(b"not avro at all", b"x|y")

    log = (tmp_path / "receipts.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "earlylink", "run", "receipts"],
        env={**os.environ, **child_env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # 22 messages: 20 distinct events, 1 replay, 1 undecodable -> offsets cover all 22
        covered = _wait_for(
            db, "SELECT coalesce(sum(next_offset), 0) FROM stream_offsets", 22, proc
        )
        assert covered == 22, (tmp_path / "receipts.log").read_text()[-3000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rows = db.execute("SELECT event_id, source_system, event_type FROM event_receipts").fetchall()
    assert sorted(str(r[0]) for r in rows) == sorted(str(e.envelope.event_id) for e in events)
    assert {r[1] for r in rows} == {"hv-mandated-checks"}
    assert {r[2] for r in rows} == {"PersonRecord"}
    assert "BAD_MAGIC" in (tmp_path / "receipts.log").read_text()
