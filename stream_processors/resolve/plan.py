"""The resolver's plan for one micro-batch (pure): which versions replace what is stored, which
records may link (consent), what ends for good, and the typed rows to write.

The agent reads what a plan needs from the graph (the stored versions of the batch's records),
makes the plan here, and writes its rows through ``sink.graph``; blocking, scoring and
clustering of the plan's ``changed`` records follow (``batch``, ``blocking``, ``cluster``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from schemas.limits import FINAL_VERSION
from sink.rows import (
    AuditRow,
    ContactRow,
    EndRow,
    OutcomeRow,
    RecordRow,
    RelationRow,
    StoredRecord,
)
from stream_processors.resolve.batch import Incoming, Prepared
from stream_processors.resolve.records import (
    LinkRecord,
    from_pseudo,
    keeping_versions,
    key_versions_of,
)

Record = dict[str, Any]  # a decoded PseudoRecord or PseudoActivity


@dataclass(frozen=True)
class BatchPlan:
    """What one batch does to the records of the graph."""

    records: list[RecordRow]  # versions that replace what is stored (suppressed: no payload)
    withdrawals: list[EndRow]
    retractions: list[EndRow]
    active: dict[str, Record]  # replacing versions that may link: permitted, not ended
    changed: list[str]  # every record whose links are worked out again
    ended: list[str]  # withdrawn, retracted or opted out at this version: activity goes too
    audit: list[AuditRow]
    key_version: int = 1  # the records link under this key version's tokens

    def linked(self, prepared: Prepared | None = None) -> dict[str, LinkRecord]:
        """The active records as linkage reads them (from ``prepared`` where it has them
        under this plan's key version)."""
        found = {}
        for key, record in self.active.items():
            ready = prepared.record(key, self.key_version) if prepared else None
            found[key] = ready if ready is not None else from_pseudo(record, self.key_version)
        return found


def plan_batch(
    incoming: Incoming, stored: Mapping[str, StoredRecord], key_version: int = 1
) -> BatchPlan:
    """The plan of ``incoming`` against the stored versions of its person records."""
    applied = newer_versions(incoming.persons, stored)
    withdrawn = sorted({r["record_key"] for r in incoming.withdrawals})
    retracted = sorted({r["record_key"] for r in incoming.retractions})
    ending = set(withdrawn) | set(retracted)  # in this batch: none of it may link
    active = {k: r for k, r in applied.items() if r["consent"] == "PERMITTED" and k not in ending}
    suppressed = [k for k in applied if k not in active]
    return BatchPlan(
        records=[
            record_row(r, incoming.raw_persons[k] if k in active else None)
            for k, r in applied.items()
        ],
        withdrawals=end_rows(incoming.withdrawals),
        retractions=end_rows(incoming.retractions),
        active=active,
        changed=sorted(set(applied) | ending),
        ended=withdrawn + retracted + suppressed,
        audit=audit_rows("CONSENT_WITHDRAWN", incoming.withdrawals)
        + audit_rows("RECORD_RETRACTED", incoming.retractions),
        key_version=key_version,
    )


def under_key_versions(
    incoming: Incoming, made: tuple[int, ...], encode: Callable[[Record], bytes]
) -> list[str]:
    """Restrict the batch's person records to the key versions the store keeps (``made``, the
    working one first: ``stream_processors.key_versions``). A record carrying others loses
    them (and its payload is encoded again); one with tokens but none under the working
    version cannot link and is taken out of the batch: its key is returned, to quarantine."""
    retired = []
    for key, record in list(incoming.persons.items()):
        held = key_versions_of(record)
        if not held or held <= set(made):
            continue
        if made[0] not in held:
            retired.append(key)
            del incoming.persons[key], incoming.raw_persons[key]
            continue
        kept = keeping_versions(record, made)
        incoming.persons[key], incoming.raw_persons[key] = kept, encode(kept)
    return retired


def newer_versions(
    persons: Mapping[str, Record], stored: Mapping[str, StoredRecord]
) -> dict[str, Record]:
    """The records of the batch that replace what is stored: a newer version of a record that
    is not a tombstone (withdrawn or retracted: ``FINAL_VERSION``, which no version passes).
    Two contents at one version are ordered by event id, as within a batch (``sort_batch``),
    so whichever arrives first, the same one is kept."""
    return {
        k: r
        for k, r in persons.items()
        if k not in stored
        or (
            stored[k].record_version < FINAL_VERSION
            and (r["record_version"], str(r["envelope"]["event_id"]))
            > (stored[k].record_version, stored[k].event_id)
        )
    }


@dataclass(frozen=True)
class ActivityPlan:
    """The batch's relations, contacts and outcomes, and which records they point at."""

    relations_of: list[str]  # stored records whose relations this batch replaces
    relations: list[RelationRow]
    contacts: list[ContactRow]
    outcomes: list[OutcomeRow]
    touched: list[str]  # records pointed at: their activity goes if they may not link

    def purge(self, ended: Collection[str], not_linkable: Collection[str]) -> list[str]:
        """Whose activity goes: the records ended in this batch, and those pointed at that
        may not link (withdrawn, retracted or opted out before: whichever arrived first)."""
        return sorted(set(ended) | set(not_linkable))


def plan_activity(incoming: Incoming, plan: BatchPlan, stored: Collection[str]) -> ActivityPlan:
    """The activity rows of ``incoming``; ``stored`` holds the keys the graph had before it."""
    active = plan.active
    touched = {a["record_key"] for a in incoming.contacts + incoming.outcomes}
    touched |= {rel["record_key"] for r in active.values() for rel in r["related"]}
    return ActivityPlan(
        relations_of=sorted(k for k in active if k in stored),  # new records have none
        relations=[
            RelationRow(k, rel["record_key"], rel["relationship"])
            for k, r in active.items()
            for rel in r["related"]
        ],
        contacts=[contact_row(c) for c in incoming.contacts],
        outcomes=[outcome_row(o) for o in incoming.outcomes],
        touched=sorted(touched),
    )


def record_row(record: Record, payload: bytes | None) -> RecordRow:
    envelope = record["envelope"]
    return RecordRow(
        record_key=record["record_key"],
        source_system=envelope["source_system"],
        role=record["role"],
        record_version=record["record_version"],
        state="ACTIVE" if payload is not None else "SUPPRESSED",
        consent=record["consent"],
        event_id=envelope["event_id"],
        event_time=envelope["event_time"],
        payload=payload,
        area=record.get("area"),
    )


def end_rows(events: list[Record]) -> list[EndRow]:
    return [
        EndRow(
            e["record_key"],
            e["envelope"]["source_system"],
            e["envelope"]["event_id"],
            e["envelope"]["event_time"],
        )
        for e in events
    ]


def audit_rows(action: str, events: list[Record]) -> list[AuditRow]:
    return [
        AuditRow(
            action,
            e["reason"],
            e["record_key"],
            e["envelope"]["source_system"],
            e["envelope"]["event_id"],
        )
        for e in events
    ]


def contact_row(c: Record) -> ContactRow:
    return ContactRow(
        item_key=c["item_key"],
        record_key=c["record_key"],
        source_system=c["envelope"]["source_system"],
        service_code=c["service_code"],
        activity_code=c["activity_code"],
        contact_type=c["contact_type"],
        contact_date=c["on_date"],
        location_code=c["location_code"],
        event_id=c["envelope"]["event_id"],
    )


def outcome_row(o: Record) -> OutcomeRow:
    return OutcomeRow(
        item_key=o["item_key"],
        record_key=o["record_key"],
        source_system=o["envelope"]["source_system"],
        tool_code=o["tool_code"],
        domain=o["domain"],
        score=o["score"],
        measured_on=o["on_date"],
        event_id=o["envelope"]["event_id"],
    )
