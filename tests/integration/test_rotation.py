"""Key rotation mid-stream on real PostgreSQL: a borough streamed while the keys rotate from
version 1 to 2 (records made under 1, under both, and under 2; some stored after the carry
phase passed them, some made under both after the switch) ends in the same partition as the
same records under version 1 alone, with no version 1 token left in the store, the blocking
index rebuilt from version 2, and a record made only under the retired version quarantined."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.settings import PseudonymisationSettings, Settings
from earlylink.rotation import Rotation
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import Event, PersonRecord
from schemas.wire import decode, encode
from stream_processors.key_versions import KeyVersions
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keyfiles import create_key, load_keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import key_versions_of
from stream_processors.resolve_agent import BLOCKING_STATE, Resolver
from tests.integration.test_resolve_order import Partition, _partition

NOW = dt.datetime.now(dt.UTC)


def _keyed(settings: Settings, folder: Path) -> Settings:
    settings.pseudonymisation = PseudonymisationSettings(
        key_dir=folder, secret=None, secret_file=None
    )
    return settings


def _events() -> tuple[list[Event], PersonRecord]:
    events = list(BoroughGenerator(250, 13).events())
    late = next(e for e in reversed(events) if isinstance(e, PersonRecord))
    envelope = late.envelope.model_copy(update={"event_id": uuid.uuid4()})
    extra = late.model_copy(
        update={"envelope": envelope, "record_id": "late-under-version-1", "given_names": "Ife"}
    )
    return events, extra


def _made(settings: Settings, events: list[Event], *versions: int) -> list[bytes]:
    ring = load_keyring(settings)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring), versions=versions)
    out = []
    for i, event in enumerate(events):
        data = encode(
            catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro()
        )
        result = stage.process(RawMessage("raw", 0, i, data), NOW)
        if result.value is not None:
            out.append(result.value)
    return out


class Stream:
    """One resolver, as a running process holds it, fed batches in offset order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.resolver = Resolver(settings, catalogue(), load_model(None))
        self.offset = 0

    async def feed(self, messages: list[bytes], batch: int = 60) -> None:
        async with await psycopg.AsyncConnection.connect(self.settings.database_dsn) as conn:
            for start in range(0, len(messages), batch):
                chunk = [
                    RawMessage("p", 0, self.offset + i, v)
                    for i, v in enumerate(messages[start : start + batch])
                ]
                self.offset += len(chunk)
                async with conn.transaction():
                    await self.resolver.apply(conn, chunk)

    async def partition(self) -> Partition:
        async with await psycopg.AsyncConnection.connect(self.settings.database_dsn) as conn:
            return await _partition(conn)


def _store(settings: Settings) -> dict[str, Any]:
    with psycopg.connect(settings.database_dsn) as conn:
        payloads = [
            bytes(p)
            for (p,) in conn.execute("SELECT payload FROM records WHERE payload IS NOT NULL")
        ]
        blocks = {bytes(t) for (t,) in conn.execute("SELECT token FROM block_keys")}
        rows = conn.execute("SELECT count(*) FROM block_keys").fetchone()
        quarantined = [r for (r,) in conn.execute("SELECT reason FROM resolve_quarantine")]
        state = conn.execute(
            "SELECT value FROM resolver_state WHERE name = %s", (BLOCKING_STATE,)
        ).fetchone()
    versions = [key_versions_of(decode(p, catalogue()).record) for p in payloads]
    return {
        "versions": versions,
        "blocks": blocks,
        "block_rows": rows[0] if rows else 0,
        "quarantined": quarantined,
        "blocking_state": state[0] if state else None,
    }


def test_rotation_mid_stream_keeps_the_partition(isolated: Any, tmp_path: Path) -> None:
    events, extra = _events()
    plain = _keyed(isolated(), tmp_path / "keys")
    create_key(plain)
    rotated = _keyed(isolated(16267), tmp_path / "keys")

    baseline = Stream(plain)
    asyncio.run(baseline.feed(_made(plain, events, 1)))
    expected, before = asyncio.run(baseline.partition()), _store(plain)

    parts = [events[i::6] for i in range(6)]
    stream, rotation = Stream(rotated), Rotation(rotated, chunk=40)
    said: list[str] = []

    async def rotate() -> None:
        await stream.feed(_made(rotated, parts[0], 1))
        versions = await rotation.begin(KeyVersions(), said.append)
        assert versions == KeyVersions(1, 2)
        await stream.feed(_made(rotated, parts[1], 1, 2))
        carried = await rotation.carry(versions, lambda *_: None)
        assert carried > 0
        await stream.feed(_made(rotated, parts[2], 1))  # made before the pseudonymiser knew
        assert await rotation.switch(versions) > 0  # those are carried by the switch
        await stream.feed(_made(rotated, parts[3], 1, 2))  # made just before it knew of it
        await stream.feed(_made(rotated, parts[4], 2))
        await stream.feed(_made(rotated, [extra], 1))  # made only under the retired version
        await rotation.clean(KeyVersions(2, None, retired=1), lambda *_: None)
        await stream.feed(_made(rotated, parts[5], 1, 2))  # the resolver strips version 1

    asyncio.run(rotate())
    assert any("created key version 2" in line for line in said)
    assert asyncio.run(stream.partition()) == expected
    after = _store(rotated)
    assert all(v == {2} for v in after["versions"] if v), "a version 1 token is left"
    assert after["block_rows"] == before["block_rows"]
    assert not after["blocks"] & before["blocks"]  # every blocking key is of version 2
    assert after["blocking_state"].endswith("/keys-v2")
    assert len(after["quarantined"]) == 1
    assert after["quarantined"][0].startswith("KEY_VERSION_RETIRED")
    with psycopg.connect(rotated.database_dsn) as conn:
        state = conn.execute(
            "SELECT value FROM resolver_state WHERE name = 'key_versions'"
        ).fetchone()
    assert state is not None and KeyVersions.parse(state[0]) == KeyVersions(2)


def test_rotation_refuses_a_secret_from_the_environment(fresh_settings: Settings) -> None:
    fresh_settings.pseudonymisation = PseudonymisationSettings(secret="4f" * 32)
    with pytest.raises(Exception, match="versioned key files"):
        Rotation(fresh_settings)


def test_keys_rotate_while_the_processors_run(
    isolated: Any, run_processor: Any, tmp_path: Path
) -> None:
    """The command, with both processors running as processes and events published all the
    while: the pseudonymiser takes the new key file it did not have at start, and the graph
    ends as the same events give without a rotation."""
    import subprocess
    import sys
    import threading
    import time

    from producers.publisher import Publisher
    from schemas.registry import codec_for
    from tests.conftest import processor_env, wait_pipeline_caught_up

    events, _ = _events()
    keys = tmp_path / "keys"
    settings = _keyed(isolated(16268), keys)
    create_key(settings)
    env = {"EARLYLINK_PSEUDONYMISATION_KEY_DIR": str(keys)}
    unset = ("EARLYLINK_PSEUDONYMISATION_SECRET",)
    pseudo = run_processor("pseudonymise", settings, unset, **env)
    resolve = run_processor("resolve", settings, unset, **env)
    half = len(events) // 2
    publisher = Publisher(settings.kafka, settings.kafka.topic("raw"), codec=codec_for(settings))

    def publish(part: list[Event], pause_s: float = 0.0) -> None:
        for start in range(0, len(part), 200):
            for event in part[start : start + 200]:
                publisher.publish(event)
            publisher.flush()
            time.sleep(pause_s)

    publish(events[:half])
    wait_pipeline_caught_up(settings, pseudo, resolve, 300)
    command_env = {**os.environ, **processor_env(settings), **env}
    command_env.pop(unset[0])
    later = threading.Thread(target=publish, args=(events[half:], 0.5))
    later.start()
    done = subprocess.run(
        [sys.executable, "-m", "earlylink", "keys", "rotate", "--chunk", "100", "--wait", "240"],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    later.join(timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rotated from key version 1 to 2" in done.stdout
    assert publisher.flush().failed == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 300)

    baseline_settings = _keyed(isolated(16269), keys)
    baseline = Stream(baseline_settings)
    asyncio.run(baseline.feed(_made(baseline_settings, events, 1)))
    expected = asyncio.run(baseline.partition())
    assert asyncio.run(Stream(settings).partition()) == expected
    after = _store(settings)
    assert after["versions"] and all(v == {2} for v in after["versions"] if v)
    assert after["blocking_state"].endswith("/keys-v2")
    assert after["quarantined"] == []
    assert "making tokens under key versions 1,2" in pseudo.log_path.read_text()
    shown = subprocess.run(
        [sys.executable, "-m", "earlylink", "keys", "show"],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "links under version 2" in shown.stdout, shown.stdout + shown.stderr


def test_rotate_stops_with_the_reason_when_the_pseudonymiser_does_not_answer(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    """Raw messages wait and no pseudonymiser reads them: the rotation cannot know that
    nothing made under the old version alone is on its way, so it stops and says why (the
    state stays, a second run resumes)."""
    from earlylink.rotation import RotationWaiting
    from producers.publisher import Publisher
    from schemas.registry import codec_for

    settings = _keyed(fresh_settings, tmp_path / "keys")
    create_key(settings)
    events, _ = _events()
    with Publisher(settings.kafka, settings.kafka.topic("raw"), codec=codec_for(settings)) as out:
        out.publish(events[0])
    said: list[str] = []
    with pytest.raises(RotationWaiting, match="is it running"):
        asyncio.run(Rotation(settings, patience_s=2).run(said.append))
    assert any("rotating from key version 1 to 2" in line for line in said)
    with psycopg.connect(settings.database_dsn) as conn:
        state = conn.execute(
            "SELECT value FROM resolver_state WHERE name = 'key_versions'"
        ).fetchone()
    assert state is not None and KeyVersions.parse(state[0]) == KeyVersions(1, 2)
