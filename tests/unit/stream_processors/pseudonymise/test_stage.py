"""The pseudonymise stage: one outcome per message, reasons for the unusable, no raw values out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from schemas.catalogue import catalogue
from schemas.models import ConsentState, PersonRecord, ServiceContact
from schemas.tokens import token_entries
from schemas.wire import decode, encode
from sink.rows import Outcome
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
RING = Keyring({1: b"k" * 32}, 1)
STAGE = Pseudonymiser(catalogue(), RING, Encoder(RING))


def _run(event: Any) -> Any:
    data = encode(catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())
    return STAGE.process(RawMessage("raw", 0, 1, data, 1_700_000_000_000), NOW)


@pytest.fixture
def person(make_person: Callable[..., PersonRecord], make_envelope: Any) -> Callable[..., Any]:
    def make(**kw: Any) -> PersonRecord:
        kw.setdefault(
            "envelope", make_envelope(version=2, event_time=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
        )
        return make_person(**kw)

    return make


def test_good_record_is_pseudonymised_without_raw_values(person: Callable[..., Any]) -> None:
    event = person(
        nhs_number="9434765919",
        given_names="Zanele",
        family_name="Canarysson",
        postcode="SE11 5QY",
        address_line="Flat 9, Canary Wharf House",
    )
    result = _run(event)
    assert result.entry.outcome is Outcome.PSEUDONYMISED
    # only the postcode district travels in clear (as ``area``, for reach by area)
    blob = result.value + result.key
    for raw in (
        b"9434765919",
        b"Zanele",
        b"zanele",
        b"Canarysson",
        b"canarysson",
        b"SE11 5QY",
        b"SE115QY",
        b"5QY",
        b"2024-03-14",
        b"Canary",
        event.record_id.encode(),
    ):
        assert raw not in blob
    decoded = decode(result.value, catalogue())
    assert decoded.record["tokens"] == []  # v4: a set per key version instead
    kinds = {kind for kind, _, _ in token_entries(decoded.record)}
    assert {"nhs", "given", "family", "dob", "postcode", "given_ph", "family_ph"} <= kinds
    assert not any(k.startswith("b_") for k in kinds)  # blocking keys: the resolver's rules
    assert {e["kind"] for e in decoded.record["encodings"]} == {"given", "family", "address"}


def test_bad_fields_are_left_out_and_named(person: Callable[..., Any]) -> None:
    result = _run(
        person(
            nhs_number="9434765918",
            postcode="NOT A POSTCODE",
            date_of_birth=dt.date(1950, 1, 1),
            given_names="Amara\x07",
        )
    )
    assert result.entry.outcome is Outcome.PSEUDONYMISED
    assert set(result.entry.field_issues) == {
        "nhs_number:INVALID_NHS_NUMBER",
        "postcode:MALFORMED_POSTCODE",
        "date_of_birth:IMPLAUSIBLE_DOB",
        "given_names:CONTROL_CHARACTERS",
    }
    kinds = {k for k, _, _ in token_entries(decode(result.value, catalogue()).record)}
    assert "family" in kinds and not kinds & {"nhs", "dob", "postcode", "given"}


def test_over_long_field(person: Callable[..., Any]) -> None:
    result = _run(person(family_name="x" * 500))
    assert result.entry.field_issues == ("family_name:FIELD_TOO_LONG",)


def test_no_identifying_field_is_dead_lettered(person: Callable[..., Any]) -> None:
    result = _run(person(given_names="Baby", family_name=None, date_of_birth=None))
    assert result.entry.outcome is Outcome.DEAD_LETTERED
    assert result.entry.reason == "NO_IDENTIFYING_FIELD"
    assert result.value is None


def test_future_event_is_dead_lettered(person: Callable[..., Any], make_envelope: Any) -> None:
    future = make_envelope(version=2, event_time=NOW + dt.timedelta(days=3))
    assert _run(person(envelope=future)).entry.reason == "EVENT_TIME_IN_FUTURE"


@pytest.mark.parametrize("state", [ConsentState.OPTED_OUT, ConsentState.WITHDRAWN])
def test_a_record_without_consent_is_never_dead_lettered_in_clear(
    person: Callable[..., Any], make_envelope: Any, state: ConsentState
) -> None:
    future = make_envelope(version=2, event_time=NOW + dt.timedelta(days=3))
    refused = _run(person(envelope=future, consent=state))
    assert (refused.entry.outcome, refused.entry.reason) == (
        Outcome.DEAD_LETTERED,
        "EVENT_TIME_IN_FUTURE",
    )
    assert refused.withheld  # the dead letter carries the reason, not the record
    assert not _run(person(envelope=future)).withheld  # (consented: kept to be fixed)
    no_id = _run(person(consent=state, record_id=" "))
    assert no_id.entry.reason == "MISSING_ID" and no_id.withheld


@pytest.mark.parametrize("state", [ConsentState.OPTED_OUT, ConsentState.WITHDRAWN])
def test_consent_gate_forwards_a_marker_without_tokens(
    person: Callable[..., Any], state: ConsentState
) -> None:
    result = _run(person(consent=state, nhs_number="9434765919"))
    assert result.entry.outcome is Outcome.SUPPRESSED
    assert result.entry.reason == f"CONSENT_{state.value}"
    record = decode(result.value, catalogue()).record
    assert record["tokens"] == [] and record["token_sets"] == []
    assert record["encodings"] == [] and record["related"] == []


def test_activity_keeps_record_key_of_its_person(
    person: Callable[..., Any], make_envelope: Any
) -> None:
    who = person()
    contact = ServiceContact(
        envelope=make_envelope(
            source=who.envelope.source_system, event_time=who.envelope.event_time
        ),
        contact_id="c1",
        person_record_id=who.record_id,
        service_code="stay-and-play",
        activity_code="a",
        contact_type="ATTENDANCE",
        contact_date=dt.date(2025, 1, 1),
    )
    assert _run(contact).key == _run(who).key


def test_pseudonymised_types_are_foreign_on_the_raw_topic(person: Callable[..., Any]) -> None:
    forwarded = _run(person()).value
    result = STAGE.process(RawMessage("raw", 0, 2, forwarded), NOW)
    assert (result.entry.outcome, result.entry.reason) == (Outcome.DEAD_LETTERED, "FOREIGN_SCHEMA")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "EMPTY"),
        (b"garbage", "BAD_MAGIC"),
        (b"\x00\x00\x00\x00\x01x", "CONFLUENT_WITHOUT_REGISTRY"),
        (b"\xc3\x01" + b"\x01" * 8 + b"x", "UNKNOWN_SCHEMA"),
    ],
)
def test_undecodable_messages(data: bytes, reason: str) -> None:
    result = STAGE.process(RawMessage("raw", 3, 9, data), NOW)
    assert (result.entry.outcome, result.entry.reason) == (Outcome.DEAD_LETTERED, reason)
    assert result.entry.source_system == "unknown"


def test_names_in_another_script_are_counted_and_shared_ids_identify(
    person: Callable[..., Any],
) -> None:
    from schemas.models import LocalId
    from stream_processors.pseudonymise.rules import Rules, SharedScheme

    stage = Pseudonymiser(
        catalogue(), RING, Encoder(RING), Rules(shared={"ci": SharedScheme("ci")})
    )

    def run(event: Any) -> Any:
        data = encode(catalogue().get("PersonRecord", 2), event.to_avro())
        return stage.process(RawMessage("raw", 0, 1, data), NOW)

    cyrillic = run(person(given_names="Иван", family_name="Петров"))
    assert cyrillic.entry.transliterated == 2
    assert "Иван".encode() not in cyrillic.value and b"ivan" not in cyrillic.value.lower()
    only_id = person(
        given_names=None,
        family_name=None,
        date_of_birth=None,
        local_ids=[LocalId(scheme="ci", value="A-1")],
    )
    assert run(only_id).entry.outcome is Outcome.PSEUDONYMISED  # the shared id identifies
    assert _run(only_id).entry.outcome is Outcome.DEAD_LETTERED  # unshared: nothing to link on
    kinds = {k for k, _, _ in token_entries(decode(run(only_id).value, catalogue()).record)}
    assert "uid:ci" in kinds


def test_a_message_past_the_size_limit_is_dead_lettered_undecoded() -> None:
    result = STAGE.process(RawMessage("raw", 0, 1, b"\xc3\x01" + b"\x00" * 300_000), NOW)
    assert result.entry.outcome is Outcome.DEAD_LETTERED
    assert result.entry.reason == "MESSAGE_TOO_LARGE"


def test_lists_past_their_limit_are_left_out_and_the_record_still_links(
    person: Callable[..., Any],
) -> None:
    event = person(
        former_family_names=[f"Former{i}" for i in range(21)],
        related=[{"relationship": "CHILD", "record_id": f"r{i}"} for i in range(51)],
    )
    result = _run(event)
    assert result.entry.outcome is Outcome.PSEUDONYMISED
    assert set(result.entry.field_issues) == {
        "former_family_names:TOO_MANY_VALUES",
        "related:TOO_MANY_VALUES",
    }
    assert decode(result.value, catalogue()).record["related"] == []


def test_a_related_id_the_store_cannot_hold_drops_that_relation_only(
    person: Callable[..., Any],
) -> None:
    event = person(
        related=[
            {"relationship": "MOTHER", "record_id": "m\x00"},
            {"relationship": "FATHER", "record_id": "f-1"},
        ]
    )
    result = _run(event)
    assert result.entry.field_issues == ("related:INVALID_ID",)
    related = decode(result.value, catalogue()).record["related"]
    assert [r["relationship"] for r in related] == ["FATHER"]


def test_a_defect_costs_one_message_not_the_stage(
    person: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> Any:
        raise ZeroDivisionError("the value 'Imogen' divided")

    monkeypatch.setattr("stream_processors.pseudonymise.stage.person_tokens", broken)
    result = _run(person())
    assert result.entry.outcome is Outcome.DEAD_LETTERED
    assert result.entry.reason == "PROCESSING_ERROR"
    assert result.details["detail"] == "ZeroDivisionError"  # the type, never the message


def test_with_a_registry_the_output_is_confluent_framed_and_either_input_is_read(
    make_person: Callable[..., PersonRecord],
) -> None:
    from schemas.wire import Codec
    from tests.unit.schemas.test_confluent_wire import TableOfIds

    ids = TableOfIds()
    codec = Codec(catalogue(), ids)
    stage = Pseudonymiser(catalogue(), RING, Encoder(RING), codec=codec)
    person = make_person()
    version = catalogue().get("PersonRecord", 2)
    for data in (codec.encode(version, person.to_avro()), encode(version, person.to_avro())):
        result = stage.process(RawMessage("raw", 0, 1, data), dt.datetime.now(dt.UTC))
        assert result.entry.outcome is Outcome.PSEUDONYMISED
        assert result.value is not None
        pseudo = catalogue().latest("PseudoRecord")
        assert result.value[:5] == b"\x00" + ids.id_of(pseudo).to_bytes(4, "big")
        assert codec.decode(result.value).event_type == "PseudoRecord"


def test_a_quarantine_copy_of_a_record_without_consent_is_withheld_too(
    person: Callable[..., Any],
) -> None:
    def message(event: Any) -> RawMessage:
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)
        return RawMessage("raw", 0, 1, encode(version, event.to_avro()))

    assert STAGE.withheld(message(person(consent=ConsentState.OPTED_OUT)))
    assert not STAGE.withheld(message(person()))
    assert not STAGE.withheld(RawMessage("raw", 0, 2, b"not avro"))


def test_the_ledger_keeps_the_keyed_event_id_the_outgoing_envelope_carries(
    person: Callable[..., Any],
) -> None:
    """Reconciliation joins the ledger to the resolver's quarantine by event id: both must be
    the keyed one, and neither the raw id a source's log holds."""
    event = person()
    result = _run(event)
    sent = decode(result.value, catalogue()).record["envelope"]
    assert result.entry.event_id == str(sent["event_id"])
    assert result.entry.event_id != str(event.envelope.event_id)
    assert sent["event_time"] == event.envelope.event_time.replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )


def test_the_locality_is_encoded_apart_under_its_own_key(
    person: Callable[..., Any], make_envelope: Any
) -> None:
    v3 = make_envelope(version=3, event_time=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
    event = person(envelope=v3, address_line="Kingston", locality="Kingston")
    result = _run(event)
    assert b"Kingston" not in result.value and b"kingston" not in result.value
    record = decode(result.value, catalogue()).record
    encodings = {e["kind"]: e["bits"] for e in record["encodings"]}
    assert set(encodings) == {"given", "family", "address", "locality"}
    # the same text as a street and as a town: two keys, two unrelated encodings
    assert encodings["address"] != encodings["locality"]
    bad = _run(person(envelope=v3, locality="x" * 500))
    assert bad.entry.field_issues == ("locality:FIELD_TOO_LONG",)
    assert "locality" not in {e["kind"] for e in decode(bad.value, catalogue()).record["encodings"]}
