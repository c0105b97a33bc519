"""The pseudonymiser on real Kafka and PostgreSQL: canaries never pass it, bad input is sorted
into dead letters and field issues with the right reasons, and every message is accounted for."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from psycopg import sql

from core.settings import Settings
from earlylink.deadletters import headers_of
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import ConsentState, Envelope, PersonRecord, Role
from schemas.wire import encode
from sink.quality import reconcile
from tests.conftest import TEST_SECRET, outside_decoder, wait_caught_up

CANARY: dict[str, Any] = {
    "given": "Zqcanaryanna",
    "family": "Vexcanarysson",
    "nhs": "9990001006",
    "postcode": "SE11 9QZ",
    "dob": dt.date(2018, 6, 13),
    "address": "77 Canarywharf Row",
}
# (the date of birth lies before any synthetic event, so a match could only be a leak; the NHS
# number is valid, so it is tokenised rather than dropped)
SCRIPT_CANARY = {"given": "Зкканарианна", "family": "Вексканаридзе"}  # transliterated on the way

EVENT_TIME = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)


def _env(source: str = "canary-service") -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_time=EVENT_TIME, source_system=source, schema_version=2
    )


def _person(**kw: Any) -> PersonRecord:
    fields: dict[str, Any] = {
        "envelope": _env(kw.pop("source", "canary-service")),
        "record_id": f"c-{uuid.uuid4().hex[:6]}",
        "record_version": 1,
        "role": Role.CHILD,
        "given_names": CANARY["given"],
        "family_name": CANARY["family"],
        "nhs_number": CANARY["nhs"],
        "date_of_birth": CANARY["dob"],
        "postcode": CANARY["postcode"],
        "address_line": CANARY["address"],
    }
    fields.update(kw)
    return PersonRecord(**fields)


def _raw(event: Any) -> bytes:
    return encode(catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())


RECORD_LEVEL = {  # what an outside producer might send -> the dead-letter reason expected
    "garbage": (b"\x13\x37 not avro", "BAD_MAGIC"),
    "empty": (b"", "EMPTY"),
    "confluent, an id the registry never gave": (b"\x00\x7f\xff\xff\x01\x02", "UNKNOWN_SCHEMA_ID"),
    "unknown_schema": (b"\xc3\x01" + bytes(8) + b"\x02", "UNKNOWN_SCHEMA"),
}


def _record_level_events() -> dict[str, tuple[bytes, str]]:
    good = _raw(_person())
    pseudo_like = encode(
        catalogue().latest("PseudoActivity"),
        {"envelope": _env().model_dump(), "kind": "CONTACT", "record_key": "x"},
    )
    future = _person(
        envelope=Envelope(
            event_id=uuid.uuid4(),
            source_system="canary-service",
            event_time=dt.datetime.now(dt.UTC) + dt.timedelta(days=2),
            schema_version=2,
        )
    )
    future_opted_out = _person(envelope=future.envelope, consent=ConsentState.OPTED_OUT)
    return {
        **RECORD_LEVEL,
        WITHHELD: (_raw(future_opted_out), "EVENT_TIME_IN_FUTURE"),
        "truncated": (good[:30], "UNDECODABLE"),
        "foreign": (pseudo_like, "FOREIGN_SCHEMA"),
        "future": (_raw(future), "EVENT_TIME_IN_FUTURE"),
        "nothing": (
            _raw(
                _person(given_names="Baby", family_name=None, nhs_number=None, date_of_birth=None)
            ),
            "NO_IDENTIFYING_FIELD",
        ),
    }


WITHHELD = "future, opted out"  # dead-lettered without its record: no consent to linkage

FIELD_LEVEL: dict[str, dict[str, Any]] = {
    "nhs_number:INVALID_NHS_NUMBER": {"nhs_number": "9990001007"},
    "date_of_birth:IMPLAUSIBLE_DOB": {"date_of_birth": dt.date(1901, 1, 1)},
    "postcode:MALFORMED_POSTCODE": {"postcode": "SE11-NOPE"},
    "family_name:FIELD_TOO_LONG": {"family_name": "Vex" * 60},
    "given_names:CONTROL_CHARACTERS": {"given_names": "Zq\x00canary"},
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    borough = BoroughGenerator(120, 21).events()
    return {
        "borough": borough,
        "canaries": [_person() for _ in range(5)]
        + [
            _person(given_names=SCRIPT_CANARY["given"], family_name=SCRIPT_CANARY["family"])
            for _ in range(2)
        ],
        "record_level": _record_level_events(),
        "field_level": {code: _person(**change) for code, change in FIELD_LEVEL.items()},
    }


def _publish(settings: Settings, corpus: dict[str, Any]) -> int:
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in [*corpus["borough"], *corpus["canaries"], *corpus["field_level"].values()]:
            publisher.publish(event)
        for name, (data, _) in corpus["record_level"].items():
            publisher.publish_raw(data, f"bad|{name}".encode())
    return publisher.report.delivered


def _topic_bytes(settings: Settings, topic: str) -> list[tuple[bytes, bytes, dict[str, str]]]:
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": uuid.uuid4().hex,
            "enable.auto.commit": False,
        }
    )
    from stream_processors.lag import end_offsets

    ends = end_offsets(settings.kafka, topic)
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    out: list[tuple[bytes, bytes, dict[str, str]]] = []
    want = sum(ends.values())
    while len(out) < want:
        msg = consumer.poll(5.0)
        assert msg is not None, f"only {len(out)} of {want} messages read from {topic}"
        headers = headers_of(msg.headers() or [])
        out.append((msg.key() or b"", msg.value() or b"", headers))
    consumer.close()
    return out


def _opened(stored: list[tuple[bytes, bytes, dict[str, str]]]) -> list[Any]:
    """The dead letters as their data keys open them (sealed: the topic holds no raw bytes)."""
    from core.settings import PseudonymisationSettings
    from stream_processors.pseudonymise.keyfiles import load_keyring
    from stream_processors.pseudonymise.sealing import data_keys, open_sealed

    settings = Settings(pseudonymisation=PseudonymisationSettings(secret=TEST_SECRET))
    keys = data_keys(settings.deadletter_key_dir, load_keyring(settings))
    opened = []
    for key, value, headers in stored:
        if "sealed" not in headers:
            opened.append((key, value, headers))
            continue
        assert key == b""  # the original key is sealed with the value
        where = (
            f"{headers['source-topic']}:{headers['source-partition']}:{headers['source-offset']}"
        )
        letter = open_sealed(keys, value, where)
        opened.append((letter.key or b"", letter.value, headers))
    return opened


def _dump_database(dsn: str) -> str:
    buffer = io.StringIO()
    with psycopg.connect(dsn) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert "ingest_ledger" in tables
        for table in tables:
            with conn.cursor().copy(
                sql.SQL("COPY {} TO STDOUT").format(sql.Identifier(table))
            ) as copy:
                for block in copy:
                    buffer.write(bytes(block).decode(errors="replace"))
    return buffer.getvalue()


def _script_canary_strings() -> list[str]:
    """The names in their own script (as text, and as their UTF-8 bytes read as Latin-1, the
    way the topic haystack is read) and transliterated."""
    from anyascii import anyascii

    found = []
    for name in SCRIPT_CANARY.values():
        latin = anyascii(name)
        found += [name, name.encode().decode("latin-1"), latin, latin.lower()]
    return found


def _canary_strings() -> list[str]:
    dob = CANARY["dob"]
    return [
        *_script_canary_strings(),
        CANARY["given"],
        CANARY["given"].lower(),
        CANARY["family"],
        CANARY["family"].lower(),
        CANARY["nhs"],
        CANARY["postcode"],
        CANARY["postcode"].replace(" ", ""),
        "canarywharf",
        "Canarywharf",
        dob.isoformat(),
        dob.strftime("%d/%m/%Y"),
    ]


def test_pipeline_stage_one(
    fresh_settings: Settings, run_processor: Callable[..., Any], corpus: dict[str, Any]
) -> None:
    settings = fresh_settings
    published = _publish(settings, corpus)
    proc = run_processor("pseudonymise", settings)
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), proc)

    # 1. nothing lost: one ledger row per message, and per source the outcomes add up
    rows = reconcile(settings.database_dsn)
    assert sum(r.received for r in rows) == published
    assert all(r.balanced for r in rows)

    # 2. record-level faults: in the dead-letter topic with their reasons and source offsets
    stored = _topic_bytes(settings, settings.kafka.topic("deadletter"))
    dead = _opened(stored)
    got = {
        key.decode().split("|", 1)[1]: headers["reason"]
        for key, _, headers in dead
        if key.startswith(b"bad|")
    }
    expected = {name: reason for name, (_, reason) in corpus["record_level"].items()}
    assert got == {n: r for n, r in expected.items() if n != WITHHELD}
    reasons = sorted(h["reason"] for _, _, h in dead)
    assert reasons == sorted(r for _, r in corpus["record_level"].values())
    originals = {v for _, v, _ in dead}
    kept = [data for name, (data, _) in corpus["record_level"].items() if name != WITHHELD]
    assert all(data in originals for data in kept)
    # the opted-out person's record never reached the dead-letter topic: reason and place only
    withheld = [(k, v, h) for k, v, h in dead if h.get("payload", "").startswith("withheld")]
    assert [(k, v, h["reason"]) for k, v, h in withheld] == [(b"", b"", "EVENT_TIME_IN_FUTURE")]
    assert corpus["record_level"][WITHHELD][0] not in originals
    assert all(h["source-topic"] == settings.kafka.topic("raw") for _, _, h in dead)

    # 3. field-level faults: record kept, field left out, reason counted for its source
    with psycopg.connect(settings.database_dsn) as conn:
        issues = conn.execute(
            "SELECT unnest(field_issues), outcome FROM ingest_ledger"
            " WHERE source_system = 'canary-service'"
        ).fetchall()
        transliterated = conn.execute(
            "SELECT sum(transliterated) FROM ingest_ledger WHERE source_system = 'canary-service'"
        ).fetchone()
    for code in FIELD_LEVEL:
        assert (code, "PSEUDONYMISED") in issues, code
    assert transliterated == (4,)  # the script canaries went the transliterated way

    # 4. canaries: nowhere downstream of the pseudonymiser
    forwarded = _topic_bytes(settings, settings.kafka.topic("pseudonymised"))
    haystacks = {
        "pseudonymised topic": b"".join(k + v for k, v, _ in forwarded).decode("latin-1"),
        "dead-letter topic, as stored": b"".join(k + v for k, v, _ in stored).decode("latin-1"),
        "postgres": _dump_database(settings.database_dsn),
        "processor log": Path(proc.log_path).read_text(errors="replace"),
    }
    assert len(forwarded) >= published - len(corpus["record_level"])
    for where, text in haystacks.items():
        for canary in _canary_strings():
            assert canary not in text, f"canary {canary!r} found in {where}"
        assert TEST_SECRET not in text, f"the master secret appears in {where}"

    # 5. both topics in the Confluent wire format: a consumer that is not ours decodes them
    outside = outside_decoder(settings)
    raw_topic = settings.kafka.topic("raw")
    raw = [v for k, v, _ in _topic_bytes(settings, raw_topic) if not k.startswith(b"bad|")]
    assert raw and all(v[:1] == b"\x00" for v in raw)
    decoded_raw = [outside(v, raw_topic) for v in raw]
    record_ids = {r["record_id"] for r in decoded_raw if "record_id" in r}
    assert record_ids >= {e.record_id for e in corpus["canaries"]}
    pseudo_topic = settings.kafka.topic("pseudonymised")
    decoded = [outside(v, pseudo_topic) for _, v, _ in forwarded]
    assert all(v[:1] == b"\x00" for _, v, _ in forwarded)
    assert all(d["record_key"] for d in decoded)


def test_pseudonymise_at_source_sends_tokens_only(
    live_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from producers.at_source import AtSourcePublisher
    from stream_processors.lag import end_offsets

    monkeypatch.setenv("EARLYLINK_PSEUDONYMISATION_SECRET", TEST_SECRET)
    settings = live_settings
    raw_before = sum(end_offsets(settings.kafka, settings.kafka.topic("raw")).values())
    pseudo_topic = settings.kafka.topic("pseudonymised")
    pseudo_before = sum(end_offsets(settings.kafka, pseudo_topic).values())
    events = [_person(source="at-source-service") for _ in range(10)]
    events.append(
        _person(
            source="at-source-service",
            given_names=None,
            family_name=None,
            nhs_number=None,
            date_of_birth=None,
        )
    )
    with AtSourcePublisher(Settings(kafka=settings.kafka, pseudonymisation=None)) as publisher:
        for event in events:
            publisher.publish(event)
    assert publisher.report.delivered == 10
    assert publisher.refused == {"NO_IDENTIFYING_FIELD": 1}
    assert sum(end_offsets(settings.kafka, settings.kafka.topic("raw")).values()) == raw_before
    forwarded = _topic_bytes(settings, pseudo_topic)
    assert len(forwarded) == pseudo_before + 10
    text = b"".join(k + v for k, v, _ in forwarded).decode("latin-1")
    for canary in _canary_strings():
        assert canary not in text
