"""Dead letters on the real topic: sealed (nothing in clear), an opted-out person's record never
there at all, `earlylink deadletter list | show | replay | purge` as an operator uses them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from core.settings import Settings
from producers.publisher import Publisher
from schemas.models import ConsentState, Envelope, PersonRecord, Role
from sink.quality import reconcile
from sink.sources import add_sources
from tests.conftest import processor_env, wait_caught_up

NAMES = ("Zqdeadanna", "Vexdeadletterson")
UNREGISTERED = "unregistered-service"


def _person(source: str, ahead: dt.timedelta = dt.timedelta(0), **kw: Any) -> PersonRecord:
    return PersonRecord(
        envelope=Envelope(
            event_id=uuid.uuid4(),
            event_time=dt.datetime.now(dt.UTC) - dt.timedelta(days=1) + ahead,
            source_system=source,
            schema_version=2,
        ),
        record_id=f"{source}-{uuid.uuid4().hex[:6]}",
        record_version=1,
        role=Role.CHILD,
        given_names=NAMES[0],
        family_name=NAMES[1],
        date_of_birth=dt.date(2024, 2, 2),
        postcode="SE11 9QZ",
        **kw,
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "earlylink", "deadletter", *args],
        env={**os.environ, **env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _raw_topic_bytes(settings: Settings) -> bytes:
    from tests.integration.test_pseudonymise import _topic_bytes

    return b"".join(k + v for k, v, _ in _topic_bytes(settings, settings.kafka.topic("deadletter")))


def test_sealed_dead_letters_listed_shown_replayed_and_purged(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Path
) -> None:
    settings = fresh_settings
    keys = {"EARLYLINK_PSEUDONYMISATION_DEADLETTER_KEY_DIR": str(tmp_path / "dl-keys")}
    env = {**processor_env(settings), **keys}
    pseudo = run_processor("pseudonymise", settings, EARLYLINK_SOURCES_REFRESH_S="0.2", **keys)
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        publisher.publish(_person(UNREGISTERED))  # consented, from a source not registered
        publisher.publish(  # opted out, and dated two hours ahead
            _person("canary-service", dt.timedelta(days=1, hours=2), consent=ConsentState.OPTED_OUT)
        )
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo)

    stored = _raw_topic_bytes(settings)
    assert stored and not any(name.encode() in stored for name in NAMES)
    assert UNREGISTERED.encode() not in stored  # (the record key is sealed too)

    listed = _cli(env, "list")
    assert listed.returncode == 0, listed.stderr
    assert "UNREGISTERED_SOURCE" in listed.stdout and "EVENT_TIME_IN_FUTURE" in listed.stdout
    assert "withheld" in listed.stdout and "sealed" in listed.stdout
    letter = next(
        line.split()[1] for line in listed.stdout.splitlines() if "UNREGISTERED_SOURCE" in line
    )

    shown = _cli(env, "show", letter)
    assert shown.returncode == 0, shown.stderr
    assert "[redacted" in shown.stdout and UNREGISTERED in shown.stdout  # source: a code
    assert not any(name in shown.stdout for name in NAMES)

    add_sources(settings.database_dsn, [UNREGISTERED], "fixed: registered")
    time.sleep(1.0)  # the pseudonymiser rereads the register every 0.2 s here
    replayed = _cli(env, "replay", "--reason", "UNREGISTERED_SOURCE")
    assert replayed.returncode == 0 and "replayed 1" in replayed.stdout, replayed.stdout
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo)
    with psycopg.connect(settings.database_dsn) as conn:
        outcomes = conn.execute(
            "SELECT outcome, reason FROM ingest_ledger WHERE source_system = %s ORDER BY 1",
            (UNREGISTERED,),
        ).fetchall()
    assert outcomes == [("DEAD_LETTERED", "UNREGISTERED_SOURCE"), ("PSEUDONYMISED", None)]
    (row,) = [r for r in reconcile(settings.database_dsn) if r.source_system == UNREGISTERED]
    assert (row.received, row.dead_lettered, row.pseudonymised) == (2, 1, 1)
    assert (row.replays, row.letters_replayed) == (1, 1) and row.balanced
    counted = subprocess.run(
        [sys.executable, "-m", "earlylink", "reconcile"],
        env={**os.environ, **env, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert counted.returncode == 0, counted.stdout + counted.stderr
    assert "letters since replayed" in counted.stdout

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    purged = _cli(env, "purge", "--before", tomorrow)
    assert purged.returncode == 0 and "1 day(s)" in purged.stdout, purged.stdout
    gone = _cli(env, "show", letter)
    assert gone.returncode == 1 and "shredded" in gone.stderr, gone.stdout + gone.stderr
    assert pseudo.poll() is None
