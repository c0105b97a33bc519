"""The register of sources on running processors: an unregistered source's events and a
disabled source's events are dead-lettered with their reason (so neither can overwrite,
withdraw or retract anything), the counts reconcile, and enabling a source again takes."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from core.settings import Settings
from earlylink.topics import ensure_topics, own_topic_spec
from producers.publisher import Publisher
from schemas.models import (
    ConsentChange,
    ConsentReason,
    ConsentState,
    Envelope,
    Event,
    PersonRecord,
    Role,
)
from sink.quality import reconcile
from sink.sources import add_sources, set_enabled
from tests.conftest import wait_caught_up, wait_pipeline_caught_up

WHEN = dt.datetime(2025, 5, 1, 10, tzinfo=dt.UTC)


def _env(source: str, version: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_time=WHEN, source_system=source, schema_version=version
    )


def _person(source: str, record_id: str) -> PersonRecord:
    return PersonRecord(
        envelope=_env(source, 2),
        record_id=record_id,
        record_version=1,
        role=Role.CHILD,
        given_names="Tallulah",
        family_name="Okonkwo-Reyes",
        date_of_birth=dt.date(2024, 2, 29),
        postcode="SE5 8RX",
    )


def _withdraw(source: str, record_id: str) -> ConsentChange:
    return ConsentChange(
        envelope=_env(source, 1),
        person_record_id=record_id,
        new_state=ConsentState.WITHDRAWN,
        reason=ConsentReason.PARENT_REQUEST,
    )


def _deliver(settings: Settings, events: list[Event], pseudo: Any, resolve: Any) -> None:
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in events:
            publisher.publish(event)
    wait_pipeline_caught_up(settings, pseudo, resolve, 120)


def _dead(settings: Settings) -> list[tuple[str, str]]:
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute(
            "SELECT source_system, reason FROM ingest_ledger WHERE outcome = 'DEAD_LETTERED'"
            " ORDER BY kafka_partition, kafka_offset"
        ).fetchall()
    return sorted(rows)


def _active(settings: Settings) -> list[str]:
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute("SELECT source_system FROM records WHERE state = 'ACTIVE'").fetchall()
    return sorted(r[0] for r in rows)


def test_unregistered_and_disabled_sources_are_refused(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings, EARLYLINK_SOURCES_REFRESH_S="0.2")
    resolve = run_processor("resolve", settings)
    _deliver(
        settings,
        [
            _person("health-visiting", "hv-1"),
            _person("impostor", "hv-1"),
            _withdraw("impostor", "hv-1"),
        ],
        pseudo,
        resolve,
    )
    assert _active(settings) == ["health-visiting"]
    assert _dead(settings) == [("impostor", "UNREGISTERED_SOURCE")] * 2

    set_enabled(settings.database_dsn, "health-visiting", False)
    time.sleep(0.5)  # past the pseudonymiser's refresh
    _deliver(settings, [_withdraw("health-visiting", "hv-1")], pseudo, resolve)
    assert _active(settings) == ["health-visiting"]  # the withdrawal did not take
    assert ("health-visiting", "SOURCE_DISABLED") in _dead(settings)

    set_enabled(settings.database_dsn, "health-visiting", True)
    time.sleep(0.5)
    _deliver(settings, [_withdraw("health-visiting", "hv-1")], pseudo, resolve)
    assert _active(settings) == []
    assert all(row.balanced for row in reconcile(settings.database_dsn))
    assert pseudo.poll() is None and resolve.poll() is None


def test_a_source_on_its_own_topic_cannot_be_impersonated(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    """health-visiting is bound to its own raw topic (which Kafka ACLs would let only it
    write): its name is believed there only, and that topic carries no other source."""
    settings = fresh_settings
    spec = own_topic_spec(settings.kafka, "health-visiting")
    add_sources(settings.database_dsn, ["health-visiting"], own_topic=True)
    ensure_topics(settings.kafka, [spec])
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    with Publisher(settings.kafka, spec.name) as own:
        own.publish(_person("health-visiting", "hv-1"))
        own.publish(_person("childrens-centre", "cc-1"))  # someone else's name on hv's topic
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as shared:
        shared.publish(_withdraw("health-visiting", "hv-1"))  # hv's name off hv's topic
    wait_caught_up(settings, "pseudonymise", spec.name, pseudo, 120)
    wait_pipeline_caught_up(settings, pseudo, resolve, 120)
    assert _active(settings) == ["health-visiting"]
    assert _dead(settings) == [
        ("childrens-centre", "SOURCE_MISMATCH"),
        ("health-visiting", "SOURCE_MISMATCH"),
    ]
    assert all(row.balanced for row in reconcile(settings.database_dsn))


def test_the_register_is_reread_while_batches_land(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Any
) -> None:
    """The register is read while the previous batch is still landing (every batch here): the
    two must not share a transaction (the demo once stopped on OutOfOrderTransactionNesting)."""
    from producers.synthetic.publish import publish_borough

    settings = fresh_settings
    published = publish_borough(settings, 40, 5, 0, tmp_path, show_progress=False)
    pseudo = run_processor(
        "pseudonymise",
        settings,
        EARLYLINK_SOURCES_REFRESH_S="0",
        EARLYLINK_PROCESSOR_BATCH_SIZE="50",
        EARLYLINK_PROCESSOR_BATCH_WITHIN_S="0.01",
    )
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo, 180)
    rows = reconcile(settings.database_dsn)
    assert sum(r.received for r in rows) == published.delivered
    assert pseudo.poll() is None
