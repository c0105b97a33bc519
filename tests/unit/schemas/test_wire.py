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
