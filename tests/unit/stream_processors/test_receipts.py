"""The receipts stage: decodable events become envelope-only rows; the rest carry a reason."""

from __future__ import annotations

from collections.abc import Callable

from schemas.catalogue import catalogue
from schemas.models import PersonRecord
from schemas.wire import encode
from stream_processors.receipts import RawMessage, next_offsets, receipts_for


def test_receipts_hold_the_envelope_and_position(
    make_person: Callable[..., PersonRecord],
) -> None:
    person = make_person(source="children-centre-a")
    good = encode(catalogue().latest("PersonRecord"), person.to_avro())
    batch = [RawMessage("t", 0, 7, good), RawMessage("t", 1, 3, b"junk")]
    rows, failed = receipts_for(batch, catalogue())
    assert len(rows) == 1
    row = rows[0]
    assert (row.event_id, row.source_system, row.partition, row.offset) == (
        person.envelope.event_id,
        "children-centre-a",
        0,
        7,
    )
    assert row.event_type == "PersonRecord"
    assert [(f.message.offset, f.reason) for f in failed] == [(3, "BAD_MAGIC")]


def test_receipts_carry_no_identifier(make_person: Callable[..., PersonRecord]) -> None:
    person = make_person(given_names="Zanele", family_name="Mbeki-Canary", nhs_number="9434765919")
    good = encode(catalogue().latest("PersonRecord"), person.to_avro())
    rows, _ = receipts_for([RawMessage("t", 0, 0, good)], catalogue())
    text = repr(rows)
    for value in ("Zanele", "Mbeki-Canary", "9434765919", "SE11"):
        assert value not in text


def test_next_offsets_resume_after_the_highest_offset_per_partition() -> None:
    batch = [
        RawMessage("t", 0, 5, b""),
        RawMessage("t", 0, 9, b""),
        RawMessage("t", 2, 1, b""),
        RawMessage("u", 0, 4, b""),
    ]
    assert next_offsets(batch) == {("t", 0): 10, ("t", 2): 2, ("u", 0): 5}
