"""Shared local identifiers in the resolver: a value in common links on its own, two values of a
scheme unique per person never link, a scheme that is not unique is evidence only, and a value
one edit away is seen as near without the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from stream_processors.resolve.batch import recluster
from stream_processors.resolve.blocking import keys_of
from stream_processors.resolve.constraints import cannot_link
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord
from stream_processors.resolve.score import score_pair

MODEL = load_model()
Make = Callable[..., LinkRecord]
NOTHING_ELSE: dict[str, Any] = {
    "given_names": None,
    "family_name": None,
    "date_of_birth": None,
    "postcode": None,
}


def _ids(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"scheme": s, "value": v} for s, v in pairs]


def _levels(a: LinkRecord, b: LinkRecord) -> dict[str, str]:
    return {e.comparison: e.level for e in score_pair(a, b, MODEL).evidence}


def test_a_shared_id_alone_links_two_sources(link: Make) -> None:
    a = link(source="cc", local_ids=_ids(("client-index", "CI123456")), **NOTHING_ELSE)
    b = link(source="hv", local_ids=_ids(("client-index", "ci-123456")), given_names="Zed")
    assert _levels(a, b)["local_id"] == "exact_unique"
    assert cannot_link(a, b) is None
    assert score_pair(a, b, MODEL).weight >= MODEL.link_threshold
    assert set(keys_of(a, MODEL.blocking)) & set(keys_of(b, MODEL.blocking))  # they meet


def test_different_values_of_a_unique_scheme_never_link(link: Make) -> None:
    a = link(local_ids=_ids(("client-index", "CI123456")), nhs_number="9434765919")
    b = link(local_ids=_ids(("client-index", "CI654321")), nhs_number="9434765919")
    assert cannot_link(a, b) == "different_shared_id"
    twin_free = recluster({"a": a, "b": b}, [("a", "b", 40.0)], {})
    assert len(twin_free.persons) == 2  # even with a strong edge between them


def test_unshared_and_invalid_ids_are_not_used(link: Make) -> None:
    a = link(local_ids=_ids(("mosaic", "M1"), ("client-index", "XX1")))
    b = link(local_ids=_ids(("mosaic", "M2"), ("client-index", "CI000001")))
    assert a.shared_ids == {}
    assert cannot_link(a, b) is None  # an unshared or malformed id is no evidence either way


def test_a_scheme_not_unique_is_evidence_and_near_values_are_seen(link: Make) -> None:
    base = link(local_ids=_ids(("family-case", "FC-10442")))
    same = link(local_ids=_ids(("family-case", "FC10442")), given_names="Zed")
    near = link(local_ids=_ids(("family-case", "FC10422")))  # one digit typed wrong
    transposed = link(local_ids=_ids(("family-case", "FC14042")))
    other = link(local_ids=_ids(("family-case", "FC99999")))
    assert _levels(base, same)["local_id"] == "exact"
    assert _levels(base, near)["local_id"] == "near"
    assert _levels(base, transposed)["local_id"] == "near"
    assert _levels(base, other)["local_id"] == "else"
    assert cannot_link(base, other) is None  # several people may share a case


def test_several_values_of_a_unique_scheme_in_one_record_are_left_out(link: Make) -> None:
    both = link(local_ids=_ids(("client-index", "CI000001"), ("client-index", "CI000002")))
    assert both.shared_ids == {}


def test_id_tokens_hold_no_value(link: Make) -> None:
    a = link(local_ids=_ids(("client-index", "CI123456")), date_of_birth=dt.date(2023, 4, 5))
    blob = b"".join(v for values in a.multi.values() for v in values)
    assert b"123456" not in blob and b"CI123456" not in blob
