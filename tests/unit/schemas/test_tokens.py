"""PseudoRecord tokens across contract versions: a record written with one token record each
(v3) and one written with a set per key version (v4) read alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.catalogue import catalogue
from schemas.tokens import token_entries, token_sets, token_versions, uneven_sets, with_tokens
from schemas.wire import decode, encode
from stream_processors.resolve.records import from_pseudo, key_versions_of
from tests.pseudonymised import pseudo_person

ENTRIES = [
    ("given", b"g" * 16, 1),
    ("given_near", b"n1" * 8, 1),
    ("given_near", b"n2" * 8, 1),
    ("given", b"G" * 16, 2),
    ("dob", b"d" * 16, 1),
]


def _record() -> dict[str, Any]:
    envelope = {
        "event_id": "6f0e3c1a-8c4b-4e8e-9d59-0d2a6b1f3e11",
        "event_time": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "source_system": "HV",
        "schema_version": 1,
    }
    record = pseudo_person(envelope)
    del record["tokens"], record["token_sets"]  # each test gives them in its own shape
    return record


def test_sets_group_by_key_version_keeping_the_order() -> None:
    sets = token_sets(ENTRIES)
    assert [s["key_version"] for s in sets] == [1, 2]
    assert sets[0]["kinds"] == ["given", "given_near", "given_near", "dob"]
    assert sets[0]["values"] == [b"g" * 16, b"n1" * 8, b"n2" * 8, b"d" * 16]
    assert list(token_entries({"token_sets": sets})) == [ENTRIES[i] for i in (0, 1, 2, 4, 3)]


def test_a_v3_record_read_by_the_newest_reader_keeps_its_tokens() -> None:
    v3 = catalogue().get("PseudoRecord", 3)
    legacy = {
        **_record(),
        "tokens": [{"kind": k, "value": v, "key_version": n} for k, v, n in ENTRIES],
    }
    old = decode(encode(v3, legacy), catalogue())
    assert old.writer_version == 3 and old.record["token_sets"] == []
    new = decode(
        encode(catalogue().latest("PseudoRecord"), with_tokens(_record(), ENTRIES)), catalogue()
    )
    assert new.writer_version >= 4 and new.record["tokens"] == []
    assert sorted(token_entries(old.record)) == sorted(token_entries(new.record)) == sorted(ENTRIES)
    for version in (1, 2):
        assert from_pseudo(old.record, version) == from_pseudo(new.record, version)
    assert key_versions_of(old.record) == key_versions_of(new.record) == {1, 2}
    assert from_pseudo(new.record, 1).multi["given_near"] == {b"n1" * 8, b"n2" * 8}


def test_uneven_sets_are_told() -> None:
    assert not uneven_sets({"token_sets": token_sets(ENTRIES)})
    assert not uneven_sets({"tokens": []})
    assert uneven_sets({"token_sets": [{"key_version": 1, "kinds": ["a", "b"], "values": [b"x"]}]})


def test_token_versions_are_those_of_the_entries() -> None:
    sets = [*token_sets(ENTRIES), {"key_version": 3, "kinds": [], "values": []}]
    legacy = [{"kind": "dob", "value": b"d" * 16, "key_version": 4}]
    both = {"token_sets": sets, "tokens": legacy}
    for record in ({"token_sets": sets}, {"tokens": legacy}, both):
        assert token_versions(record) == {n for _, _, n in token_entries(record)}
    assert token_versions({"token_sets": sets}) == {1, 2}  # an empty set holds no version
