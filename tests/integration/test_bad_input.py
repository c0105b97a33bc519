"""Bad input as a producer outside our library would send it, through the whole pipeline.

A bare confluent-kafka producer (not earlylink's publisher) sends bytes no contract allows,
records with hostile or odd field values, duplicates and out-of-order versions, between good
events. Every message is accounted for (linked, dead-lettered with its reason, or suppressed),
the counts reconcile exactly, and both processors keep running.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import Producer

from core.settings import Settings
from schemas.catalogue import catalogue
from schemas.models import (
    ContactType,
    Envelope,
    PersonRecord,
    Role,
    ServiceContact,
)
from schemas.registry import codec_for
from schemas.wire import confluent_header, encode
from sink.quality import reconcile
from tests.conftest import wait_pipeline_caught_up
from tests.pseudonymised import pseudo_person

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


def _raw(event_type: str, version: int, **fields: Any) -> bytes:
    """An event as a foreign producer could write it: the contract's Avro, none of our checks."""
    envelope = {"event_id": uuid.uuid4(), "event_time": WHEN, "source_system": SOURCE}
    envelope.update(fields.pop("envelope", {}))
    return encode(
        catalogue().get(event_type, version),
        {"envelope": {**envelope, "schema_version": version}, **fields},
    )


def _contact(**kw: Any) -> bytes:
    fields = {
        "contact_id": "c-1",
        "person_record_id": "good-1",
        "service_code": "HV",
        "activity_code": "NEW_BIRTH_VISIT",
        "contact_type": "HOME_VISIT",
        "contact_date": dt.date(2025, 6, 1),
        "location_code": None,
        "duration_minutes": None,
    }
    return _raw("ServiceContact", 1, **{**fields, **kw})


def _outcome(**kw: Any) -> bytes:
    fields = {
        "measure_id": "m-1",
        "person_record_id": "good-1",
        "tool_code": "ASQ3",
        "domain": None,
        "score": 40.0,
        "measured_on": dt.date(2025, 6, 1),
    }
    return _raw("OutcomeMeasure", 1, **{**fields, **kw})


# poison seen in review: each once stopped the pseudonymiser for good (name -> bytes, reason)
POISON: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty contact id": (lambda: _contact(contact_id=""), "MISSING_ID"),
    "empty measure id": (lambda: _outcome(measure_id=""), "MISSING_ID"),
    "empty person record id": (lambda: _contact(person_record_id=" "), "MISSING_ID"),
    "NUL in source system": (
        lambda: _contact(envelope={"source_system": "hv\x00x"}),
        "INVALID_SOURCE",
    ),
    "NUL in service code": (lambda: _contact(service_code="H\x00V"), "INVALID_FIELD"),
    "NUL in location code": (lambda: _contact(location_code="L\x001"), "INVALID_FIELD"),
    "NUL in tool code": (lambda: _outcome(tool_code="ASQ\x00"), "INVALID_FIELD"),
    "score not a number": (lambda: _outcome(score=float("nan")), "INVALID_FIELD"),
    "a 999,900-byte message": (lambda: b"\xc3\x01" + b"\x00" * 999_898, "MESSAGE_TOO_LARGE"),
    "version past final": (
        lambda: _bytes(_person("past-final", record_version=2**62 + 1)),
        "VERSION_OUT_OF_RANGE",
    ),
}


def _amplifying() -> dict[str, tuple[bytes, str]]:
    """Records small enough to take whose pseudonymised output once grew past Kafka's limit:
    the list is left out of linkage (a field issue), the record still links."""
    former = [f"Formerly{i:05d}" for i in range(15_000)]
    many_former = _bytes(_person("many-former", former_family_names=former))
    many_related = _bytes(
        _person(
            "many-related",
            related=[{"relationship": "CHILD", "record_id": f"r{i:06d}"} for i in range(15_000)],
        )
    )
    return {
        "many former names": (many_former, "former_family_names:TOO_MANY_VALUES"),
        "many related": (many_related, "related:TOO_MANY_VALUES"),
    }


def _foreign_registered(settings: Settings, body: bytes) -> bytes:
    """A message framed with the id of a schema the registry holds that is not our contract."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    client = SchemaRegistryClient(settings.registry.client_config(settings.stack))
    thing = {"type": "record", "name": "Thing", "namespace": "outside", "fields": []}
    schema_id = client.register_schema("outside.Thing", Schema(json.dumps(thing), "AVRO"))
    return confluent_header(schema_id) + body


def _corpus(
    settings: Settings,
) -> tuple[list[tuple[str, bytes]], dict[str, str], dict[str, str]]:
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
        "an id the registry never gave": (
            confluent_header(2**31 - 7) + good[10:],
            "UNKNOWN_SCHEMA_ID",
        ),
        "a registered schema not ours": (
            _foreign_registered(settings, good[10:]),
            "SCHEMA_OUTSIDE_CATALOGUE",
        ),
        "unknown schema id": (b"\xc3\x01" + b"\xab" * 8 + good[10:], "UNKNOWN_SCHEMA"),
        "another subject's schema": (foreign, "FOREIGN_SCHEMA"),
        "truncated avro": (good[: len(good) // 2], "UNDECODABLE"),
        "trailing bytes": (good + b"\x00\x01", "TRAILING_BYTES"),
    }
    fields = {
        "huge name": ("given_names", "Zz" * 50_000, "FIELD_TOO_LONG"),
        "control characters": ("family_name", "Ash\x07down\x1b[31m", "CONTROL_CHARACTERS"),
        "dob before 1900": ("date_of_birth", dt.date(1899, 12, 31), "IMPLAUSIBLE_DOB"),
        "dob after the event": ("date_of_birth", dt.date(2031, 1, 1), "IMPLAUSIBLE_DOB"),
        "dob at epoch zero": ("date_of_birth", dt.date(1970, 1, 1), "IMPLAUSIBLE_DOB"),
    }
    person = _person("good-confluent")  # framed through the registry, as our producers send
    framed = codec_for(settings).encode(catalogue().get("PersonRecord", 2), person.to_avro())
    sent: list[tuple[str, bytes]] = [("good", good), ("good, Confluent-framed", framed)]
    sent += [(name, data) for name, (data, _) in dead.items()]
    sent += [(name, make()) for name, (make, _) in POISON.items()]
    amplifying = _amplifying()
    sent += [(name, data) for name, (data, _) in amplifying.items()]
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
        {name: reason for name, (_, reason) in [*dead.items(), *POISON.items()]},
        {name: f"{field}:{issue}" for name, (field, _, issue) in fields.items()}
        | {name: issue for name, (_, issue) in amplifying.items()},
    )


def test_outside_producer_bad_input_is_accounted_for(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    sent, dead_reasons, field_issues = _corpus(settings)
    producer = Producer(
        {**settings.kafka.client_config(), "acks": "all", "message.max.bytes": 2_000_000}
    )
    raw = settings.kafka.topic("raw")
    refused: list[str] = []

    def delivered(err: Any, msg: Any) -> None:
        if err is not None:
            refused.append(f"{msg.key()!r}: {err}")

    for name, data in sent:
        producer.produce(raw, value=data, key=f"outside|{name}".encode(), on_delivery=delivered)
    # (a Kafka timestamp past the year 9999: Kafka 4 refuses it by default, see
    # tests/unit/stream_processors/test_messages.py)
    assert producer.flush(60) == 0
    assert not refused
    wait_pipeline_caught_up(settings, pseudo, resolve, 180)

    # every message in the ledger once; per source, received = pseudonymised + suppressed + dead
    rows = reconcile(settings.database_dsn)
    assert sum(r.received for r in rows) == len(sent), rows
    assert all(r.balanced for r in rows)
    with psycopg.connect(settings.database_dsn) as conn:
        outcomes: Counter[str | None] = Counter(
            dict(
                conn.execute(
                    "SELECT reason, count(*) FROM ingest_ledger GROUP BY reason"
                ).fetchall()
            )
        )
        issues: Counter[str] = Counter(
            dict(
                conn.execute(
                    "SELECT issue, count(*) FROM ingest_ledger, unnest(field_issues) AS issue"
                    " GROUP BY issue"
                ).fetchall()
            )
        )
        records: dict[int, int] = dict(
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
    # linked: good (single-object and Confluent-framed), 5 field-issue records, 2 odd names,
    # "twice", "versions" (v3 kept), 2 amplifying = 13
    assert records == {1: 12, 3: 1}
    assert contacts == (1,) and tables == (1,)
    assert pseudo.poll() is None and resolve.poll() is None  # neither stopped


def _pseudo_activity(**kw: Any) -> bytes:
    fields: dict[str, Any] = {
        "envelope": {**_env(1).model_dump(), "source_system": "old-pseudonymiser"},
        "kind": "CONTACT",
        "record_key": "ab" * 32,
        "item_key": "cd" * 32,
        "service_code": "HV",
        "activity_code": "NEW_BIRTH_VISIT",
        "contact_type": "HOME_VISIT",
        "on_date": dt.date(2025, 6, 1),
        "location_code": None,
        "tool_code": None,
        "domain": None,
        "score": None,
        "consent": None,
        "reason": None,
        "raw_timestamp_ms": None,
    }
    fields.update(kw)
    return encode(catalogue().latest("PseudoActivity"), fields)


def _uneven_pseudo_record() -> bytes:
    """A PseudoRecord whose token set has two kinds and one value (a writer outside the
    contract: Avro reads it, linkage cannot)."""
    envelope = {**_env(1).model_dump(), "source_system": "old-pseudonymiser"}
    uneven = [{"key_version": 1, "kinds": ["given", "family"], "values": [b"x" * 16]}]
    record = pseudo_person(envelope, record_key="ef" * 32, token_sets=uneven)
    return encode(catalogue().latest("PseudoRecord"), record)


def _long_token_pseudo_record() -> bytes:
    """A PseudoRecord whose date-of-birth token is 300 bytes (a writer outside the contract:
    no blocking key can be made of it, and it must cost that message, not the resolver)."""
    envelope = {**_env(1).model_dump(), "source_system": "old-pseudonymiser"}
    long = [{"key_version": 1, "kinds": ["dob"], "values": [b"x" * 300]}]
    record = pseudo_person(envelope, record_key="cd" * 32, token_sets=long)
    return encode(catalogue().latest("PseudoRecord"), record)


def test_resolver_quarantines_what_it_cannot_write(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    """Messages on the pseudonymised topic that no pseudonymiser of this version would write
    (an older one's, or another writer's) go to the resolver's quarantine with their position
    and reason; the good messages of the same batches link, and the resolver stays up."""
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    producer = Producer({**settings.kafka.client_config(), "acks": "all"})
    raw, pseudonymised = settings.kafka.topic("raw"), settings.kafka.topic("pseudonymised")
    producer.produce(raw, value=_bytes(_person("before")), key=b"outside|before")
    assert producer.flush(30) == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 120)
    poison = {
        "not avro": (b"\x13\x37", "BAD_MAGIC"),
        "contact without item key": (_pseudo_activity(item_key=None), "NotNullViolation"),
        "NUL in a code": (_pseudo_activity(service_code="H\x00V"), "DataError"),
        "token kinds without values": (_uneven_pseudo_record(), "UNEVEN_TOKEN_SETS"),
        "a token too long for a blocking key": (_long_token_pseudo_record(), "IndexError"),
    }
    for name, (data, _) in poison.items():
        producer.produce(pseudonymised, value=data, key=name.encode())
    producer.produce(raw, value=_bytes(_person("after")), key=b"outside|after")
    assert producer.flush(30) == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 120)

    with psycopg.connect(settings.database_dsn) as conn:
        quarantined = sorted(
            conn.execute("SELECT reason FROM resolve_quarantine ORDER BY 1").fetchall()
        )
        linked = conn.execute(
            "SELECT count(*) FROM records WHERE source_system = %s AND state = 'ACTIVE'",
            (SOURCE,),
        ).fetchone()
    assert quarantined == sorted((reason,) for _, reason in poison.values())
    assert linked == (2,)
    assert resolve.poll() is None and pseudo.poll() is None
