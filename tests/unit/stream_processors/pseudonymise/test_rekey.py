"""Key rotation without raw data: a record carried to the next key version by chaining equals
the record pseudonymised under it, links the same, and keeps its record key."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from schemas.catalogue import catalogue
from schemas.models import PersonRecord
from schemas.tokens import token_entries
from schemas.wire import decode, encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.rekey import carries, lifted
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.records import from_pseudo, keeping_versions
from stream_processors.resolve.score import score_pair

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
RING = Keyring({1: b"k" * 32, 2: b"n" * 32}, 2)


def pseudonymised(event: PersonRecord, *versions: int) -> dict[str, Any]:
    stage = Pseudonymiser(catalogue(), RING, Encoder(RING), versions=versions)
    data = encode(catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())
    result = stage.process(RawMessage("raw", 0, 1, data, 1_700_000_000_000), NOW)
    assert result.value is not None, result.entry
    return decode(result.value, catalogue()).record


@pytest.fixture
def child(make_person: Callable[..., PersonRecord], make_envelope: Any) -> PersonRecord:
    return make_person(
        envelope=make_envelope(version=2, event_time=dt.datetime(2025, 5, 1, tzinfo=dt.UTC)),
        nhs_number="9434765919",
        given_names="Zanele Amara",
        family_name="Okafor",
        postcode="SE11 5QY",
        address_line="Flat 9, Canary Wharf House",
    )


def _content(record: dict[str, Any], version: int) -> tuple[Any, ...]:
    tokens = sorted((kind, value) for kind, value, v in token_entries(record) if v == version)
    codes = sorted(
        (e["kind"], e["bits"]) for e in record["encodings"] if e["key_version"] == version
    )
    return tuple(tokens), tuple(codes)


def test_a_record_lifted_to_version_2_equals_one_made_under_it(child: PersonRecord) -> None:
    old, both, new = pseudonymised(child, 1), pseudonymised(child, 1, 2), pseudonymised(child, 2)
    assert not carries(old, 2) and carries(both, 2) and carries(new, 2)
    up = lifted(old, Encoder(RING), 1, 2)
    assert _content(up, 2) == _content(both, 2) == _content(new, 2)
    assert _content(up, 1) == _content(old, 1)
    assert _content(new, 2) != _content(old, 1)  # nothing of version 1 is left in version 2
    assert old["record_key"] == new["record_key"]  # identifiers stay under version 1
    assert old["envelope"]["event_id"] == new["envelope"]["event_id"]
    stripped = keeping_versions(up, (2,))
    assert _content(stripped, 1) == ((), ()) and stripped["key_version"] == 2


def test_a_pair_scores_the_same_under_either_version(
    child: PersonRecord, make_person: Callable[..., PersonRecord], make_envelope: Any
) -> None:
    typo = make_person(
        envelope=make_envelope(version=2, event_time=dt.datetime(2025, 5, 2, tzinfo=dt.UTC)),
        record_id="other",
        given_names="Zanelle",
        family_name="Okafor",
        postcode="SE11 5QZ",
        address_line="Flat 9 Canary Wharf Hse",
    )
    from stream_processors.resolve.model import load_model

    model = load_model(None)
    a, b = pseudonymised(child, 1, 2), pseudonymised(typo, 1, 2)
    under_1 = score_pair(from_pseudo(a, 1), from_pseudo(b, 1), model)
    under_2 = score_pair(from_pseudo(a, 2), from_pseudo(b, 2), model)
    assert under_1 == under_2  # every level, every weight
    assert under_1.weight > model.link_threshold  # a typo'd name and address still link
    assert from_pseudo(a, 1).tokens != from_pseudo(a, 2).tokens


def test_a_version_without_a_secret_fails_the_stage_loudly(child: PersonRecord) -> None:
    """The agent checks the versions against the keyring before a batch; the stage itself
    turns a missing secret into a per-message processing error, never a silent token."""
    stage = Pseudonymiser(catalogue(), RING, Encoder(RING), versions=(1, 3))
    data = encode(catalogue().get(child.EVENT_TYPE, child.envelope.schema_version), child.to_avro())
    result = stage.process(RawMessage("raw", 0, 1, data), NOW)
    assert result.value is None and result.entry.reason == "PROCESSING_ERROR"
    assert (
        dataclasses.replace(stage, versions=(1,)).process(RawMessage("raw", 0, 1, data), NOW).value
    )


def test_a_models_term_frequencies_are_carried_to_the_next_version(child: PersonRecord) -> None:
    """A trained model keys its frequencies by token: after the lift a version 2 token has the
    share its version 1 token had, so a pair weighs the same under either version."""
    import dataclasses as dc

    from stream_processors.pseudonymise.rekey import lifted_frequencies
    from stream_processors.resolve.model import load_model

    both = pseudonymised(child, 1, 2)
    v1, v2 = from_pseudo(both, 1), from_pseudo(both, 2)
    total = 1000
    model = dc.replace(
        load_model(None),
        tf={"gname": {v1.tokens["gname"].hex(): 0.05}},
        tf_total={"gname": total},
    )
    carried = dc.replace(model, tf=lifted_frequencies(model.tf, Encoder(RING), 1, 2))
    assert carried.frequency("gname", v2.tokens["gname"]) == 0.05
    assert carried.frequency("gname", v1.tokens["gname"]) == 0.05
    assert model.frequency("gname", v2.tokens["gname"]) == 1 / total  # unseen before
    assert score_pair(v1, v1, carried) == score_pair(v2, v2, carried)
