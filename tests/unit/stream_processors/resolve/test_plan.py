"""The resolver's per-batch plan: versions, consent, ends and activity, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from schemas.limits import FINAL_VERSION
from sink.rows import AuditRow, EndRow, RelationRow, StoredRecord
from stream_processors.resolve.batch import prepare, sort_batch
from stream_processors.resolve.blocking import keys_of, pairs_in_blocks
from stream_processors.resolve.model import load_model
from stream_processors.resolve.plan import plan_activity, plan_batch
from stream_processors.resolve.records import from_pseudo

AT = datetime(2026, 5, 1, tzinfo=UTC)


def person(
    key: str, version: int = 1, event: str = "e1", consent: str = "PERMITTED", **extra: Any
) -> dict[str, Any]:
    return {
        "envelope": {"source_system": "HV", "event_id": event, "event_time": AT},
        "record_key": key,
        "record_version": version,
        "role": "CHILD",
        "sex": "F",
        "consent": consent,
        "area": "E01",
        "tokens": [{"kind": "gname", "value": key.encode()}],
        "encodings": [],
        "related": extra.get("related", []),
    }


def activity(kind: str, key: str, event: str, **fields: Any) -> dict[str, Any]:
    base = {
        "envelope": {"source_system": "CC", "event_id": event, "event_time": AT},
        "kind": kind,
        "record_key": key,
        "item_key": f"item-{event}",
        "service_code": "STAY_PLAY",
        "activity_code": None,
        "contact_type": "GROUP",
        "on_date": date(2026, 4, 1),
        "location_code": "L1",
        "tool_code": "ASQ",
        "domain": "COMM",
        "score": 40.0,
        "consent": None,
        "reason": None,
    }
    return base | fields


def batch(*events: tuple[str, dict[str, Any]]) -> Any:
    return sort_batch((kind, record, repr(record).encode()) for kind, record in events)


def test_newest_version_in_the_batch_wins_whatever_the_order() -> None:
    incoming = batch(
        ("PseudoRecord", person("r1", 1, "a")),
        ("PseudoRecord", person("r1", 3, "b")),
        ("PseudoRecord", person("r1", 2, "c")),
    )
    assert incoming.persons["r1"]["record_version"] == 3
    assert incoming.raw_persons["r1"] == repr(person("r1", 3, "b")).encode()


def test_only_versions_newer_than_the_stored_one_apply() -> None:
    incoming = batch(
        ("PseudoRecord", person("new", 1)),
        ("PseudoRecord", person("newer", 2)),
        ("PseudoRecord", person("older", 1)),
        ("PseudoRecord", person("same", 2, "b")),
        ("PseudoRecord", person("same_lower_event", 2, "a")),
        ("PseudoRecord", person("ended", 9)),
    )
    stored = {
        "newer": StoredRecord("newer", 1, "ACTIVE", "e1"),
        "older": StoredRecord("older", 2, "ACTIVE", "e1"),
        "same": StoredRecord("same", 2, "ACTIVE", "a"),
        "same_lower_event": StoredRecord("same_lower_event", 2, "ACTIVE", "b"),
        "ended": StoredRecord("ended", FINAL_VERSION, "SUPPRESSED", "w"),
    }
    plan = plan_batch(incoming, stored)
    assert sorted(r.record_key for r in plan.records) == ["new", "newer", "same"]
    assert sorted(plan.active) == ["new", "newer", "same"]
    assert plan.changed == ["new", "newer", "same"]
    assert plan.ended == []


def test_an_opted_out_version_is_stored_without_payload_and_ends_its_links() -> None:
    incoming = batch(("PseudoRecord", person("r1", 2, consent="OPTED_OUT")))
    plan = plan_batch(incoming, {"r1": StoredRecord("r1", 1, "ACTIVE", "e0")})
    (row,) = plan.records
    assert (row.state, row.consent, row.payload) == ("SUPPRESSED", "OPTED_OUT", None)
    assert plan.active == {}
    assert plan.changed == ["r1"] and plan.ended == ["r1"]
    assert plan.linked() == {}


def test_a_record_withdrawn_in_its_own_batch_never_links() -> None:
    withdrawal = activity("CONSENT_CHANGE", "r1", "w1", consent="WITHDRAWN", reason="ASKED")
    incoming = batch(("PseudoRecord", person("r1")), ("PseudoActivity", withdrawal))
    plan = plan_batch(incoming, {})
    assert plan.active == {}
    assert plan.records[0].payload is None  # stored suppressed: the tombstone follows
    assert plan.withdrawals == [EndRow("r1", "CC", "w1", AT)]
    assert plan.audit == [AuditRow("CONSENT_WITHDRAWN", "ASKED", "r1", "CC", "w1")]
    assert plan.changed == ["r1"]
    assert sorted(plan.ended) == ["r1", "r1"]  # withdrawn, and suppressed at this version


def test_consent_given_is_not_an_end_and_retractions_are_audited() -> None:
    given = activity("CONSENT_CHANGE", "r1", "c1", consent="PERMITTED")
    retraction = activity("RETRACTION", "r2", "x1", reason="ENTERED_IN_ERROR")
    plan = plan_batch(batch(("PseudoActivity", given), ("PseudoActivity", retraction)), {})
    assert plan.withdrawals == []
    assert plan.retractions == [EndRow("r2", "CC", "x1", AT)]
    assert plan.audit == [AuditRow("RECORD_RETRACTED", "ENTERED_IN_ERROR", "r2", "CC", "x1")]
    assert plan.changed == ["r2"] and plan.ended == ["r2"]


def test_activity_rows_and_what_they_point_at() -> None:
    related = [{"record_key": "mum", "relationship": "MOTHER"}]
    incoming = batch(
        ("PseudoRecord", person("kid", 2, related=related)),
        ("PseudoRecord", person("baby", 1, related=related)),
        ("PseudoActivity", activity("CONTACT", "gone", "c1")),
        ("PseudoActivity", activity("OUTCOME", "kid", "o1")),
    )
    plan = plan_batch(incoming, {"kid": StoredRecord("kid", 1, "ACTIVE", "e0")})
    acts = plan_activity(incoming, plan, {"kid"})
    assert acts.relations_of == ["kid"]  # the new record has no stored relations to replace
    assert sorted(acts.relations) == [
        RelationRow("baby", "mum", "MOTHER"),
        RelationRow("kid", "mum", "MOTHER"),
    ]
    (contact,) = acts.contacts
    assert (contact.record_key, contact.contact_date, contact.event_id) == (
        "gone",
        date(2026, 4, 1),
        "c1",
    )
    assert [(o.record_key, o.score) for o in acts.outcomes] == [("kid", 40.0)]
    assert acts.touched == ["gone", "kid", "mum"]
    assert acts.purge(["x"], ["gone"]) == ["gone", "x"]


def test_pairs_come_only_from_blocks_within_the_cap() -> None:
    keys = {"a": (b"k1", b"k2"), "b": (b"k1",)}
    members = {b"k1": (2, ["a", "b"]), b"k2": (500, None)}
    assert pairs_in_blocks(keys, members) == [("a", "b")]  # once, however many keys it shares
    assert pairs_in_blocks({"c": (b"k3",)}, members) == []


def test_each_pair_comes_once_smaller_key_first_in_the_order_first_met() -> None:
    keys = {"m": (b"k1", b"k2"), "c": (b"k2",)}
    members = {b"k1": (3, ["a", "m", "z"]), b"k2": (3, ["c", "m", "z"])}
    assert pairs_in_blocks(keys, members) == [("a", "m"), ("m", "z"), ("c", "m"), ("c", "z")]


def rotating(key: str, consent: str = "PERMITTED") -> dict[str, Any]:
    """A person record carrying its tokens under key versions 1 and 2 (a rotation)."""
    tokens = [
        {"kind": kind, "value": f"{key}-{kind}-v{v}".encode(), "key_version": v}
        for v in (1, 2)
        for kind in ("given", "family", "dob")
    ]
    return person(key, consent=consent) | {"tokens": tokens}


def test_prepared_records_and_keys_are_what_the_plan_would_work_out() -> None:
    rules = load_model().blocking
    incoming = batch(("PseudoRecord", rotating("r1")), ("PseudoRecord", rotating("r2")))
    incoming.persons["r3"] = rotating("r3", consent="OPTED_OUT")
    prepared = prepare(incoming, 1, rules)
    assert sorted(prepared.records) == ["r1", "r2"]  # an opted-out record never links
    for key, record in prepared.records.items():
        assert record == from_pseudo(incoming.persons[key], 1)
        assert prepared.keys[key] == keys_of(record, rules) != ()
    plan = plan_batch(incoming, {}, key_version=1)
    linked = plan.linked(prepared)
    assert all(linked[k] is prepared.records[k] for k in ("r1", "r2"))


def test_prepared_under_a_key_version_the_batch_no_longer_links_under_goes_unused() -> None:
    incoming = batch(("PseudoRecord", rotating("r1")))
    prepared = prepare(incoming, 1, load_model().blocking)
    plan = plan_batch(incoming, {}, key_version=2)  # a rotation switched before the lock
    linked = plan.linked(prepared)
    assert linked["r1"] is not prepared.records["r1"]
    assert linked["r1"] == from_pseudo(incoming.persons["r1"], 2) != prepared.records["r1"]
    assert prepared.record("r1", 2) is None


def test_a_record_that_cannot_be_prepared_is_left_to_the_locked_path() -> None:
    """A foreign writer's token too long for a blocking key makes ``keys_of`` fail: before the
    lock that would stop the processor, so ``prepare`` leaves the record out (under the lock it
    fails again, where the message is isolated and quarantined with its reason)."""
    rules = load_model().blocking
    poison = rotating("bad") | {"tokens": [{"kind": "dob", "value": b"x" * 300, "key_version": 1}]}
    incoming = batch(("PseudoRecord", rotating("r1")), ("PseudoRecord", poison))
    with pytest.raises(IndexError):
        keys_of(from_pseudo(poison, 1), rules)
    prepared = prepare(incoming, 1, rules)
    assert sorted(prepared.records) == sorted(prepared.keys) == ["r1"]
