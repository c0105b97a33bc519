"""Consent withdrawal and erasure end to end, on running processors: a child known to two
services is linked; one service's record is withdrawn; within seconds that record's links,
tokens, encodings and activity are gone, the person is re-clustered, counts are recomputed and
an audit entry says what happened, without identifiers. A later event for the record respects
the withdrawal, a record opted out at registration is never linked, and the other record's
retraction (erasure) removes the person from the graph and the views."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from core.settings import Settings
from producers.publisher import Publisher
from schemas.models import (
    ConsentChange,
    ConsentReason,
    ConsentState,
    ContactType,
    Envelope,
    Event,
    PersonRecord,
    RecordRetraction,
    RetractionReason,
    Role,
    ServiceContact,
)
from tests.conftest import wait_pipeline_caught_up

CHILD = {
    "given_names": "Tallulah",
    "family_name": "Okonkwo-Reyes",
    "date_of_birth": dt.date(2024, 2, 29),
    "postcode": "SE5 8RX",
    "nhs_number": "9434765919",
}
WHEN = dt.datetime(2025, 5, 1, 10, tzinfo=dt.UTC)


def _env(source: str, version: int = 2, days: int = 0) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        event_time=WHEN + dt.timedelta(days=days),
        source_system=source,
        schema_version=version,
    )


def _record(source: str, days: int = 0, **kw: Any) -> PersonRecord:
    fields = {"record_id": f"{source}-1", "record_version": 1, "role": Role.CHILD, **CHILD, **kw}
    return PersonRecord(envelope=_env(source, days=days), **fields)


def _contact(source: str, n: int) -> ServiceContact:
    return ServiceContact(
        envelope=_env(source, 1),
        contact_id=f"{source}-visit-{n}",
        person_record_id=f"{source}-1",
        service_code=source.upper()[:6],
        activity_code="SESSION",
        contact_type=ContactType.SESSION,
        contact_date=dt.date(2025, 4, 1) + dt.timedelta(days=n),
    )


def _send(settings: Settings, events: list[Event]) -> None:
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in events:
            publisher.publish(event)


def _deliver(settings: Settings, events: list[Event], pseudo: Any, resolve: Any) -> None:
    """Publish and wait until both stages have committed the events."""
    _send(settings, events)
    wait_pipeline_caught_up(settings, pseudo, resolve, 120)


def _state(conn: psycopg.Connection[Any]) -> dict[str, tuple[Any, ...]]:
    """Per source: (state, has payload, person or None, block keys, edges, contacts)."""
    rows = conn.execute(
        """
        SELECT r.source_system, r.state, r.payload IS NOT NULL, m.person_id,
               (SELECT count(*) FROM block_keys b WHERE b.record_key = r.record_key),
               (SELECT count(*) FROM match_edges e WHERE r.record_key IN (e.a, e.b)),
               (SELECT count(*) FROM service_contacts c WHERE c.record_key = r.record_key)
        FROM records r LEFT JOIN memberships m USING (record_key)"""
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_withdrawal_unlinks_purges_and_is_audited_within_seconds(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    _deliver(
        settings,
        [
            _record("health-visiting"),
            _record("childrens-centre"),
            _record("early-education", consent=ConsentState.OPTED_OUT),
            _contact("health-visiting", 1),
            _contact("childrens-centre", 1),
            _contact("early-education", 1),
        ],
        pseudo,
        resolve,
    )
    with psycopg.connect(settings.database_dsn, autocommit=True) as conn:
        before = _state(conn)
        hv, cc = before["health-visiting"], before["childrens-centre"]
        assert hv[0] == cc[0] == "ACTIVE" and hv[2] is not None and hv[2] == cc[2]  # one person
        assert cc[3] > 0 and cc[4] > 0 and cc[5] == 1
        # opted out at registration: never linked, no tokens, no activity
        assert "early-education" not in before or before["early-education"][1:] == (
            False,
            None,
            0,
            0,
            0,
        )

        withdrawn_at = time.monotonic()
        _send(
            settings,
            [
                ConsentChange(
                    envelope=_env("childrens-centre", 1, days=1),
                    person_record_id="childrens-centre-1",
                    new_state=ConsentState.WITHDRAWN,
                    reason=ConsentReason.PARENT_REQUEST,
                )
            ],
        )
        while time.monotonic() - withdrawn_at < 30:
            after = _state(conn)
            if after["childrens-centre"][0] != "ACTIVE":
                break
            time.sleep(0.1)
        took = time.monotonic() - withdrawn_at
        print(f"withdrawal applied {took:.2f}s after it was published")
        assert took < 10
        assert after["childrens-centre"] == ("SUPPRESSED", False, None, 0, 0, 0)
        assert after["health-visiting"][:3] == ("ACTIVE", True, hv[2])  # the person remains
        audit = conn.execute(
            "SELECT action, reason, source_system, record_key FROM audit_log"
        ).fetchall()
        assert [a[:3] for a in audit] == [
            ("CONSENT_WITHDRAWN", "PARENT_REQUEST", "childrens-centre")
        ]
        assert all(v not in str(audit) for v in CHILD.values() if isinstance(v, str))
        persons = conn.execute(
            "SELECT records FROM analytics.persons WHERE person_id = %s", (hv[2],)
        ).fetchone()
        assert persons == (1,)  # recomputed: one record left in the person

        # a later version of the withdrawn record, and new activity for it, stay out
        _deliver(
            settings,
            [
                _record("childrens-centre", record_version=2, days=2),
                _contact("childrens-centre", 2),
            ],
            pseudo,
            resolve,
        )
        assert _state(conn)["childrens-centre"] == ("SUPPRESSED", False, None, 0, 0, 0)

        # erasure: the other record retracted; the person is gone from the graph and the views
        _deliver(
            settings,
            [
                RecordRetraction(
                    envelope=_env("health-visiting", 1, days=3),
                    record_id="health-visiting-1",
                    reason=RetractionReason.ERASURE_REQUEST,
                )
            ],
            pseudo,
            resolve,
        )
        assert _state(conn)["health-visiting"] == ("RETRACTED", False, None, 0, 0, 0)
        assert conn.execute("SELECT count(*) FROM analytics.persons").fetchone() == (0,)
        actions = conn.execute("SELECT action, reason FROM audit_log ORDER BY id").fetchall()
        assert actions[-1] == ("RECORD_RETRACTED", "ERASURE_REQUEST")
