"""Bad input as a producer outside our library would send it, through the whole pipeline.

A bare confluent-kafka producer (not earlylink's publisher) sends bytes no contract allows,
records with hostile or odd field values, duplicates and out-of-order versions, between good
events. Every message is accounted for (linked, dead-lettered with its reason, or suppressed),
the counts reconcile exactly, and both processors keep running.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import Producer

from earlylink.settings import Settings
from schemas.catalogue import catalogue
from schemas.models import (
    ContactType,
    Envelope,
    PersonRecord,
    Role,
    ServiceContact,
)
from schemas.wire import encode
from sink.quality import reconcile
from tests.conftest import wait_pipeline_caught_up

SOURCE = "outside-producer"
WHEN = dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC)


def _env(version: int = 2) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_time=WHEN, source_system=SOURCE, schema_version=version
    )


def _person(record_id: str, **kw: Any) -> PersonRecord:
    fields: dict[str, Any] = {
        "envelope": _env(),
        "record_id": record_id,
        "record_version": 1,
        "role": Role.CHILD,
        "given_names": "Imogen",
        "family_name": "Ashdown",
        "date_of_birth": dt.date(2024, 1, 9),
        "postcode": "SE15 4QL",
    }
    fields.update(kw)
    return PersonRecord(**fields)


def _bytes(event: Any) -> bytes:
    return encode(catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())


def _corpus() -> tuple[list[tuple[str, bytes]], dict[str, str], dict[str, str]]:
    """(name, bytes) to send in order; dead-letter reason expected by name; field issue by name."""
    good = _bytes(_person("good-1"))
    foreign = encode(
        catalogue().latest("PseudoActivity"),
        {"envelope": _env().model_dump(), "kind": "CONTACT", "record_key": "x"},
    )
    dead = {
        "garbage": (b"\x13\x37 definitely not avro", "BAD_MAGIC"),
        "empty": (b"", "EMPTY"),
        "wrong magic byte": (b"\xc3\x02" + good[2:], "BAD_MAGIC"),
        "confluent framing": (b"\x00\x00\x00\x00\x07" + good[10:], "CONFLUENT_WITHOUT_REGISTRY"),
        "unknown schema id": (b"\xc3\x01" + b"\xab" * 8 + good[10:], "UNKNOWN_SCHEMA"),
        "another subject's schema": (foreign, "FOREIGN_SCHEMA"),
        "truncated avro": (good[: len(good) // 2], "UNDECODABLE"),
        "trailing bytes": (good + b"\x00\x01", "TRAILING_BYTES"),
    }
    fields = {
        "huge name": ("given_names", "Zz" * 200_000, "FIELD_TOO_LONG"),
        "control characters": ("family_name", "Ash\x07down\x1b[31m", "CONTROL_CHARACTERS"),
        "dob before 1900": ("date_of_birth", dt.date(1899, 12, 31), "IMPLAUSIBLE_DOB"),
        "dob after the event": ("date_of_birth", dt.date(2031, 1, 1), "IMPLAUSIBLE_DOB"),
        "dob at epoch zero": ("date_of_birth", dt.date(1970, 1, 1), "IMPLAUSIBLE_DOB"),
    }
    sent: list[tuple[str, bytes]] = [("good", good)]
    sent += [(name, data) for name, (data, _) in dead.items()]
    for name, (field, value, _) in fields.items():
        sent.append((name, _bytes(_person(f"field-{len(sent)}", **{field: value}))))
    odd_names = {
        "sql metacharacters": ("Robert'); DROP TABLE records;--", "O'Brien \"; DELETE FROM x"),
        "unicode": ("Zoë-Łucja 李 محمد", "Nguyễn-Øster 🙂"),
    }
    for name, (given, family) in odd_names.items():
        sent.append((name, _bytes(_person(f"odd-{name}", given_names=given, family_name=family))))
    # the same event twice (same id, same bytes), and a contact twice
    twice = _bytes(_person("twice"))
    contact = ServiceContact(
        envelope=_env(1),
        contact_id="visit-1",
        person_record_id="twice",
        service_code="HV",
        activity_code="NEW_BIRTH_VISIT",
        contact_type=ContactType.HOME_VISIT,
        contact_date=dt.date(2025, 6, 1),
    )
    sent += [("duplicate event", twice), ("duplicate event again", twice)]
    sent += [("duplicate contact", _bytes(contact)), ("duplicate contact again", _bytes(contact))]
    # version 3 before version 1 of the same record: version 3 stands
    sent.append(("v3 first", _bytes(_person("versions", record_version=3, family_name="Later"))))
    sent.append(("v1 late", _bytes(_person("versions", record_version=1))))
    return (
        sent,
        {name: reason for name, (_, reason) in dead.items()},
        {name: f"{field}:{issue}" for name, (field, _, issue) in fields.items()},
    )


def test_outside_producer_bad_input_is_accounted_for(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    sent, dead_reasons, field_issues = _corpus()
    producer = Producer(
        {**settings.kafka.client_config(), "acks": "all", "message.max.bytes": 2_000_000}
    )
    raw = settings.kafka.topic("raw")
    for name, data in sent:
        producer.produce(raw, value=data, key=f"outside|{name}".encode())
    assert producer.flush(60) == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 180)

    # every message in the ledger once; per source, received = pseudonymised + suppressed + dead
    rows = reconcile(settings.database_dsn)
    assert sum(r.received for r in rows) == len(sent)
    assert all(r.balanced for r in rows)
    with psycopg.connect(settings.database_dsn) as conn:
        outcomes = Counter(
            dict(
                conn.execute(
                    "SELECT reason, count(*) FROM ingest_ledger GROUP BY reason"
                ).fetchall()
            )
        )
        issues = Counter(
            dict(
                conn.execute(
                    "SELECT issue, count(*) FROM ingest_ledger, unnest(field_issues) AS issue"
                    " GROUP BY issue"
                ).fetchall()
            )
        )
        records = dict(
            conn.execute(
                "SELECT record_version, count(*) FROM records WHERE source_system = %s GROUP BY 1",
                (SOURCE,),
            ).fetchall()
        )
        contacts = conn.execute("SELECT count(*) FROM service_contacts").fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'records'"
        ).fetchone()
    assert {r: n for r, n in outcomes.items() if r} == Counter(dead_reasons.values())
    assert issues == Counter(field_issues.values())
    # linked: good, 5 field-issue records, 2 odd names, "twice", "versions" (v3 kept) = 10
    assert records == {1: 9, 3: 1}
    assert contacts == (1,) and tables == (1,)
    assert pseudo.poll() is None and resolve.poll() is None  # neither stopped
