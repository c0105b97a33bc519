"""The Confluent wire format through ``Codec``: framing, both framings read, and the reasons a
framed message cannot be read. The registry here is a table of ids (the real registry is in
tests/integration/test_registry.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemas.catalogue import SchemaVersion, catalogue
from schemas.models import PersonRecord
from schemas.wire import Codec, DecodeError, DecodeReason, confluent_header, encode


class TableOfIds:
    """Ids as a registry would give them; counts the lookups a codec makes."""

    def __init__(self) -> None:
        versions = [v for t in catalogue().event_types for v in catalogue().versions(t)]
        self.ids = {(v.event_type, v.version): 100 + i for i, v in enumerate(versions)}
        self.found: dict[int, SchemaVersion | DecodeReason] = {}
        self.lookups: list[int] = []
        self.foreign = {7}

    def id_of(self, version: SchemaVersion) -> int:
        return self.ids[(version.event_type, version.version)]

    def known(self, schema_id: int) -> SchemaVersion | DecodeReason | None:
        return self.found.get(schema_id)

    def lookup(self, schema_id: int) -> SchemaVersion | DecodeReason:
        self.lookups.append(schema_id)
        by_id = {i: catalogue().get(*key) for key, i in self.ids.items()}
        found: SchemaVersion | DecodeReason = by_id.get(schema_id) or (
            DecodeReason.SCHEMA_OUTSIDE_CATALOGUE
            if schema_id in self.foreign
            else DecodeReason.UNKNOWN_SCHEMA_ID
        )
        self.found[schema_id] = found
        return found


PERSON_V2 = catalogue().get("PersonRecord", 2)


def test_framed_with_the_registry_id_and_the_same_body(
    make_person: Callable[..., PersonRecord],
) -> None:
    ids = TableOfIds()
    record = make_person().to_avro()
    framed = Codec(catalogue(), ids).encode(PERSON_V2, record)
    single = encode(PERSON_V2, record)
    assert framed[:5] == b"\x00" + ids.id_of(PERSON_V2).to_bytes(4, "big")
    assert framed[5:] == single[10:]  # one Avro body, two headers
    assert Codec(catalogue(), ids).as_single_object(framed) == single


def test_both_framings_decode_to_the_same_record(make_person: Callable[..., PersonRecord]) -> None:
    person = make_person(nhs_number="9434765919")
    codec = Codec(catalogue(), TableOfIds())
    framed = codec.encode(PERSON_V2, person.to_avro())
    single = encode(PERSON_V2, person.to_avro())
    for data in (framed, single):
        decoded = codec.decode(data)
        assert (decoded.event_type, decoded.writer_version) == ("PersonRecord", 2)
        assert PersonRecord.from_avro(decoded.record) == person


def test_without_a_registry_single_object_is_written_and_framed_refused(
    make_person: Callable[..., PersonRecord],
) -> None:
    record = make_person().to_avro()
    plain = Codec(catalogue())
    assert plain.encode(PERSON_V2, record) == encode(PERSON_V2, record)
    framed = Codec(catalogue(), TableOfIds()).encode(PERSON_V2, record)
    with pytest.raises(DecodeError) as caught:
        plain.decode(framed)
    assert caught.value.reason is DecodeReason.CONFLUENT_WITHOUT_REGISTRY


@pytest.mark.parametrize(
    ("schema_id", "reason"),
    [(99_999, DecodeReason.UNKNOWN_SCHEMA_ID), (7, DecodeReason.SCHEMA_OUTSIDE_CATALOGUE)],
)
def test_ids_without_a_contract_have_their_reason(
    make_person: Callable[..., PersonRecord], schema_id: int, reason: DecodeReason
) -> None:
    body = encode(PERSON_V2, make_person().to_avro())[10:]
    with pytest.raises(DecodeError) as caught:
        Codec(catalogue(), TableOfIds()).decode(confluent_header(schema_id) + body)
    assert caught.value.reason is reason


def test_prepare_looks_each_new_id_up_once(make_person: Callable[..., PersonRecord]) -> None:
    ids = TableOfIds()
    codec = Codec(catalogue(), ids)
    framed = codec.encode(PERSON_V2, make_person().to_avro())
    single = encode(PERSON_V2, make_person().to_avro())
    codec.prepare([framed, framed, single, b"", b"\x00\x00"])
    codec.prepare([framed])
    assert ids.lookups == [ids.id_of(PERSON_V2)]
    codec.decode(framed)
    assert ids.lookups == [ids.id_of(PERSON_V2)]  # decoding made no further lookup
