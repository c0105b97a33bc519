"""Single-object encoding: round trips, and every way bytes can be unusable has its reason."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemas.catalogue import catalogue
from schemas.models import PersonRecord
from schemas.wire import HEADER_LEN, DecodeError, DecodeReason, decode, encode


def _bytes(person: PersonRecord, version: int = 2) -> bytes:
    return encode(catalogue().get("PersonRecord", version), person.to_avro())


def test_round_trip_gives_the_same_model(make_person: Callable[..., PersonRecord]) -> None:
    person = make_person(former_family_names=["Adeyemi"], nhs_number="9434765919")
    decoded = decode(_bytes(person), catalogue())
    assert decoded.event_type == "PersonRecord"
    assert decoded.writer_version == 2
    assert PersonRecord.from_avro(decoded.record) == person


def test_v1_bytes_are_read_as_the_newest_version(make_person: Callable[..., PersonRecord]) -> None:
    person = make_person()
    decoded = decode(_bytes(person, version=1), catalogue())
    assert decoded.writer_version == 1
    assert decoded.record["former_family_names"] == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", DecodeReason.EMPTY),
        (b"hello world", DecodeReason.BAD_MAGIC),
        (b"\xc3\x01\x00", DecodeReason.BAD_MAGIC),
        (b"\x00\x00\x00\x00\x07rest", DecodeReason.CONFLUENT_WITHOUT_REGISTRY),
        (b"\xc3\x01" + b"\xff" * 8 + b"body", DecodeReason.UNKNOWN_SCHEMA),
    ],
)
def test_unusable_headers(data: bytes, reason: DecodeReason) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(data, catalogue())
    assert caught.value.reason is reason


def test_truncated_body_is_undecodable(make_person: Callable[..., PersonRecord]) -> None:
    data = _bytes(make_person())
    with pytest.raises(DecodeError) as caught:
        decode(data[: HEADER_LEN + 5], catalogue())
    assert caught.value.reason is DecodeReason.UNDECODABLE


def test_trailing_bytes_are_rejected(make_person: Callable[..., PersonRecord]) -> None:
    with pytest.raises(DecodeError) as caught:
        decode(_bytes(make_person()) + b"\x00\x01", catalogue())
    assert caught.value.reason is DecodeReason.TRAILING_BYTES


def test_an_older_version_reads_as_avro_resolution_would(
    make_person: Callable[..., PersonRecord],
) -> None:
    """Fields the newest version adds with a default are filled in without fastavro's resolving
    reader (twice the decode time): the result is what that reader gives, for every version."""
    from io import BytesIO

    from fastavro import schemaless_reader

    from schemas.wire import added_defaults

    newest = catalogue().latest("PersonRecord")
    for old in catalogue().versions("PersonRecord")[:-1]:
        body = encode(old, make_person(former_family_names=[]).to_avro())
        resolved = schemaless_reader(BytesIO(body[HEADER_LEN:]), old.parsed, newest.parsed)
        assert decode(body, catalogue()).record == resolved
        assert added_defaults(old, newest) is not None  # the fast path, not the resolver
    first, second = decode(body, catalogue()).record, decode(body, catalogue()).record
    first["local_ids"].append({"scheme": "x", "value": "1"})
    assert second["local_ids"] == []  # a filled-in default is never shared between records


def test_a_change_other_than_added_defaults_takes_the_resolving_reader() -> None:
    from schemas.catalogue import load_from_files
    from schemas.wire import added_defaults

    envelope = '{"type":"record","name":"Envelope","namespace":"org.earlylink.events","fields":[{"name":"event_id","type":"string"}]}'  # noqa: E501
    head = '{"type":"record","name":"X","namespace":"org.earlylink.events","fields":['
    env = '{"name":"envelope","type":"org.earlylink.events.Envelope"}'
    v1 = head + env + ',{"name":"n","type":"int"}]}'
    v2 = head + env + ',{"name":"n","type":"long"}]}'  # a promotion: resolution's job
    v3 = (
        head
        + env
        + ',{"name":"n","type":"long"},{"name":"m","type":["null","string"],"default":null}]}'
    )
    cat = load_from_files(
        {"Envelope.avsc": envelope, "X.v1.avsc": v1, "X.v2.avsc": v2, "X.v3.avsc": v3}
    )
    one, two, three = cat.versions("X")
    assert added_defaults(one, three) is None
    assert added_defaults(two, three) == {"m": None}


def test_an_added_union_with_a_value_as_its_default_takes_the_resolving_reader() -> None:
    """A union's default is its first branch's value: fastavro resolves it, so it is no plain
    default to fill in; and working that out must not raise (it ran before every decode of
    such a version, outside the decode's own error handling: every message would stop)."""
    from schemas.catalogue import load_from_files
    from schemas.wire import added_defaults

    envelope = '{"type":"record","name":"Envelope","namespace":"org.earlylink.events","fields":[{"name":"event_id","type":"string"}]}'  # noqa: E501
    head = '{"type":"record","name":"X","namespace":"org.earlylink.events","fields":['
    env = '{"name":"envelope","type":"org.earlylink.events.Envelope"}'
    v1 = head + env + "]}"
    v2 = head + env + ',{"name":"m","type":["string","null"],"default":"none"}]}'
    cat = load_from_files({"Envelope.avsc": envelope, "X.v1.avsc": v1, "X.v2.avsc": v2})
    one, two = cat.versions("X")
    assert added_defaults(one, two) is None
