"""Record-level checks: required ids, codes, scores and versions the store can hold."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.limits import FINAL_VERSION
from stream_processors.pseudonymise.checks import EventReason, event_problem, source_problem

CONTACT = {
    "contact_id": "c-1",
    "person_record_id": "p-1",
    "service_code": "HV",
    "activity_code": "NBV",
    "location_code": None,
}


@pytest.mark.parametrize(
    ("event_type", "change", "reason", "field"),
    [
        ("ServiceContact", {"contact_id": ""}, EventReason.MISSING_ID, "contact_id"),
        ("ServiceContact", {"person_record_id": "  "}, EventReason.MISSING_ID, "person_record_id"),
        ("ServiceContact", {"contact_id": "c\x00"}, EventReason.INVALID_ID, "contact_id"),
        ("ServiceContact", {"contact_id": "c" * 201}, EventReason.INVALID_ID, "contact_id"),
        ("ServiceContact", {"service_code": "H\x00V"}, EventReason.INVALID_FIELD, "service_code"),
        ("ServiceContact", {"activity_code": ""}, EventReason.INVALID_FIELD, "activity_code"),
        (
            "ServiceContact",
            {"location_code": "\u202e1"},
            EventReason.INVALID_FIELD,
            "location_code",
        ),
    ],
)
def test_contacts_that_cannot_be_used(
    event_type: str, change: dict[str, Any], reason: EventReason, field: str
) -> None:
    problem = event_problem(event_type, {**CONTACT, **change})
    assert problem is not None and (problem.reason, problem.field) == (reason, field)


def test_a_usable_contact_and_an_optional_code_left_empty() -> None:
    assert event_problem("ServiceContact", CONTACT) is None
    assert event_problem("ServiceContact", {**CONTACT, "location_code": "L1"}) is None


@pytest.mark.parametrize("score", [float("nan"), float("inf"), float("-inf")])
def test_scores_must_be_finite(score: float) -> None:
    record = {"measure_id": "m", "person_record_id": "p", "tool_code": "ASQ", "score": score}
    problem = event_problem("OutcomeMeasure", record)
    assert problem is not None and problem.field == "score"
    assert event_problem("OutcomeMeasure", {**record, "score": 12.5}) is None


@pytest.mark.parametrize("version", [-1, FINAL_VERSION, FINAL_VERSION + 1, 2**63 - 1])
def test_versions_at_or_past_the_tombstones_are_refused(version: int) -> None:
    problem = event_problem("PersonRecord", {"record_id": "r", "record_version": version})
    assert problem is not None and problem.reason is EventReason.VERSION_OUT_OF_RANGE
    assert (
        event_problem("PersonRecord", {"record_id": "r", "record_version": FINAL_VERSION - 1})
        is None
    )


@pytest.mark.parametrize(
    "source", ["", "  ", "hv\x00", "x" * 101, "hv\u200b", "<img src=x onerror=alert(1)>", "-hv"]
)
def test_unusable_source_names(source: str) -> None:
    assert source_problem(source) is not None
    assert source_problem("health-visiting") is None
    assert source_problem("NHS Trust 2/maternity") is None
