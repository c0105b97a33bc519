"""The resolver's quarantine as an operator uses it: `earlylink quarantine list | replay`.

A resolver from before PseudoRecord v4 could not read a v4 record and set it aside: its
quarantine row (position and reason, but no event, source or type: it could not decode them)
and its stored offset past it, what ``Resolver.quarantine`` leaves behind (docs/schemas.md).
The upgraded resolver, when it starts, fills in what it can read now, so the reconciliation
counts the record as quarantined and not as gone on to linkage. Replaying it links the record,
the reconciliation counts it as linked, and a second replay sends nothing again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import Consumer, TopicPartition

from core.settings import Settings
from core.vocabulary import REPLAYED_FROM
from earlylink.deadletters import headers_of
from producers.publisher import Publisher
from schemas.models import Envelope, PersonRecord, Role
from sink.quality import reconcile
from sink.sources import add_sources
from stream_processors.lag import end_offsets
from tests.conftest import processor_env, wait_caught_up

SOURCE = "quarantine-replay-service"
OLD_REASON = "SCHEMA_OUTSIDE_CATALOGUE"  # a resolver that did not know this contract


def _person() -> PersonRecord:
    return PersonRecord(
        envelope=Envelope(
            event_id=uuid.uuid4(),
            event_time=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            source_system=SOURCE,
            schema_version=2,
        ),
        record_id="q-1",
        record_version=1,
        role=Role.CHILD,
        given_names="Quillon",
        family_name="Replayforth",
        date_of_birth=dt.date(2024, 3, 3),
        postcode="SE11 9QZ",
    )


def _message(settings: Settings, topic: str, partition: int, offset: int) -> Any:
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": uuid.uuid4().hex,
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, partition, offset)])
    message = consumer.poll(10.0)
    consumer.close()
    assert message is not None and message.value()
    return message


def _only_message(settings: Settings, topic: str) -> tuple[int, int, bytes]:
    """(partition, offset, value) of the one message on ``topic``."""
    ends = {p: n for p, n in end_offsets(settings.kafka, topic).items() if n}
    assert sum(ends.values()) == 1, ends
    ((partition, end),) = ends.items()
    return partition, end - 1, bytes(_message(settings, topic, partition, end - 1).value())


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "earlylink", "quarantine", *args],
        env={**os.environ, **processor_env(settings), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _left_by_an_older_resolver(settings: Settings, position: tuple[int, int], value: bytes) -> None:
    topic = settings.kafka.topic("pseudonymised")
    partition, offset = position
    with psycopg.connect(settings.database_dsn) as conn:
        conn.execute(
            "INSERT INTO resolve_quarantine (topic, kafka_partition, kafka_offset, event_id,"
            " source_system, event_type, reason, payload)"
            " VALUES (%s, %s, %s, NULL, NULL, NULL, %s, %s)",
            (topic, partition, offset, OLD_REASON, value),
        )
        conn.execute(
            "INSERT INTO stream_offsets (consumer_group, topic, kafka_partition, next_offset)"
            " VALUES (%s, %s, %s, %s)",
            (settings.kafka.group("resolve"), topic, partition, offset + 1),
        )


def _wait_read_by_the_resolver(settings: Settings, resolve: Any, timeout_s: float = 90) -> None:
    """Until the started resolver has given the row the event it reads off it now."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert resolve.poll() is None, "the resolver exited"
        with psycopg.connect(settings.database_dsn) as conn:
            row = conn.execute(
                "SELECT source_system, event_type FROM resolve_quarantine"
                " WHERE event_id IS NOT NULL"
            ).fetchone()
        if row is not None:
            assert row == (SOURCE, "PseudoRecord")
            return
        time.sleep(0.5)
    raise AssertionError("the resolver did not read the quarantined message's event")


def _row(settings: Settings) -> Any:
    (row,) = [r for r in reconcile(settings.database_dsn) if r.source_system == SOURCE]
    return row


def _linked(settings: Settings) -> int:
    with psycopg.connect(settings.database_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM records WHERE source_system = %s AND state = 'ACTIVE'",
            (SOURCE,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_quarantined_record_listed_replayed_and_linked_once(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    pseudonymised = settings.kafka.topic("pseudonymised")
    add_sources(settings.database_dsn, [SOURCE], "test: quarantine replay")
    pseudo = run_processor("pseudonymise", settings)
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        publisher.publish(_person())
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo)
    partition, offset, value = _only_message(settings, pseudonymised)
    _left_by_an_older_resolver(settings, (partition, offset), value)
    resolve = run_processor("resolve", settings)
    _wait_read_by_the_resolver(settings, resolve)
    wait_caught_up(settings, "resolve", pseudonymised, resolve)
    assert _linked(settings) == 0
    before = _row(settings)
    assert (before.pseudonymised, before.quarantined) == (0, 1) and before.balanced

    counted = subprocess.run(
        [sys.executable, "-m", "earlylink", "reconcile"],
        env={**os.environ, **processor_env(settings), "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert counted.returncode == 0, counted.stdout + counted.stderr
    assert "earlylink quarantine list" in counted.stdout  # where to look, and what to do

    listed = _cli(settings, "list")
    assert listed.returncode == 0, listed.stderr
    assert OLD_REASON in listed.stdout and f"{partition}:{offset}" in listed.stdout
    assert SOURCE in listed.stdout and "PseudoRecord" in listed.stdout  # read by the new one
    assert "Quillon" not in listed.stdout and "Replayforth" not in listed.stdout

    refused = _cli(settings, "replay")
    assert refused.returncode != 0 and "--reason" in refused.stdout + refused.stderr

    replayed = _cli(settings, "replay", "--reason", OLD_REASON)
    assert replayed.returncode == 0 and "replayed 1" in replayed.stdout, replayed.stdout
    wait_caught_up(settings, "resolve", pseudonymised, resolve)
    assert _linked(settings) == 1
    after = _row(settings)
    assert (after.pseudonymised, after.quarantined) == (1, 0) and after.balanced

    again = _cli(settings, "replay", "--reason", OLD_REASON)
    assert again.returncode == 0 and "replayed 0" in again.stdout, again.stdout
    waiting = _cli(settings, "list")
    assert waiting.returncode == 0 and OLD_REASON not in waiting.stdout, waiting.stdout
    shown = _cli(settings, "list", "--replayed")
    (line,) = [x for x in shown.stdout.splitlines() if OLD_REASON in x]
    assert f"{partition}:{offset + 1}" in line  # where it went: the topic's next position
    first = _message(settings, pseudonymised, partition, offset)
    again_sent = _message(settings, pseudonymised, partition, offset + 1)
    assert again_sent.value() == first.value() and again_sent.key() == first.key()
    headers = headers_of(again_sent.headers() or [])
    assert headers[REPLAYED_FROM] == f"{pseudonymised}:{partition}:{offset}"
    assert resolve.poll() is None and pseudo.poll() is None


def test_the_resolver_reads_past_any_number_of_unreadable_rows_once_per_catalogue(
    isolated: Callable[..., Settings], monkeypatch: Any
) -> None:
    """Rows no contract reads stay unread, and used to be read again from the first on every
    start, up to a fixed number: a readable row behind that many was never reached. The
    resolver now pages through every unread row, and reads them again only when its
    catalogue of contracts has changed since."""
    from schemas.catalogue import catalogue
    from sink import graph
    from stream_processors.resolve.model import load_model
    from stream_processors.resolve_agent import Resolver
    from tests.pseudonymised import forwarded

    settings = isolated()
    topic = settings.kafka.topic("pseudonymised")
    (readable,) = forwarded([_person()], b"q")
    rows = [(topic, 0, n, OLD_REASON, b"\x00not an event") for n in range(25)]
    rows.append((topic, 0, 25, OLD_REASON, readable))
    with psycopg.connect(settings.database_dsn) as conn:
        conn.cursor().executemany(
            "INSERT INTO resolve_quarantine (topic, kafka_partition, kafka_offset, reason,"
            " payload) VALUES (%s, %s, %s, %s, %s)",
            rows,
        )
    resolver = Resolver(settings, catalogue(), load_model())
    pages: list[int] = []
    unread = graph.unattributed_quarantine

    async def counted(*args: Any, **kwargs: Any) -> Any:
        found = await unread(*args, **kwargs)
        pages.append(len(found))
        return found

    monkeypatch.setattr(graph, "unattributed_quarantine", counted)

    async def start() -> int:
        connecting = psycopg.AsyncConnection.connect(settings.database_dsn)
        async with await connecting as conn, conn.transaction():
            return await resolver.attribute_quarantined(conn, chunk=10)

    assert asyncio.run(start()) == 1
    assert pages == [10, 10, 6]
    with psycopg.connect(settings.database_dsn) as conn:
        found = conn.execute(
            "SELECT kafka_offset, source_system, event_type FROM resolve_quarantine"
            " WHERE event_id IS NOT NULL"
        ).fetchall()
    assert found == [(25, SOURCE, "PseudoRecord")]
    assert asyncio.run(start()) == 0  # the same contracts: nothing read again
    assert pages == [10, 10, 6]
