"""The rows that cross into and out of the identity graph (``sink.graph``), typed.

Named tuples: the planner (``stream_processors.resolve.plan``) builds them by field name, and
psycopg takes them as the parameter sequences they are, in column order, with no conversion.
Pure data: nothing here imports psycopg, so the pure resolution library can build them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple


@dataclass(frozen=True)
class StoredRecord:
    """What the graph holds of a record: enough to order a new version against it."""

    record_key: str
    record_version: int
    state: str
    event_id: str = ""  # of the version stored: of two contents at one version, the larger wins


class StoredPayload(NamedTuple):
    """An active record's current version and pseudonymised payload, as the graph holds it."""

    record_key: str
    record_version: int
    payload: bytes


class RecordRow(NamedTuple):
    """A version of a person record; ``payload`` is None when it may not link (suppressed)."""

    record_key: str
    source_system: str
    role: str
    record_version: int
    state: str
    consent: str
    event_id: Any
    event_time: datetime
    payload: bytes | None
    area: str | None


class EndRow(NamedTuple):
    """A withdrawal or retraction of a record: it ends for good (a tombstone)."""

    record_key: str
    source_system: str
    event_id: Any
    event_time: datetime


class RelationRow(NamedTuple):
    record_key: str
    related_key: str
    relationship: str


class ContactRow(NamedTuple):
    item_key: str
    record_key: str
    source_system: str
    service_code: str | None
    activity_code: str | None
    contact_type: str | None
    contact_date: date | None
    location_code: str | None
    event_id: Any


class OutcomeRow(NamedTuple):
    item_key: str
    record_key: str
    source_system: str
    tool_code: str | None
    domain: str | None
    score: float | None
    measured_on: date | None
    event_id: Any


class AuditRow(NamedTuple):
    action: str  # CONSENT_WITHDRAWN | RECORD_RETRACTED
    reason: str | None
    record_key: str
    source_system: str
    event_id: Any


class QuarantineRow(NamedTuple):
    """A pseudonymised message the resolver set aside, at its position, with the reason."""

    topic: str
    kafka_partition: int
    kafka_offset: int
    event_id: Any
    source_system: str | None
    event_type: str | None
    reason: str
    payload: bytes


class BlockKey(NamedTuple):
    """One row of the blocking index: a record holds a blocking key."""

    token: bytes
    record_key: str


class HistoryRow(NamedTuple):
    """A merge, split or retirement of person ids, for the history (and outbox)."""

    kind: str  # MERGE | SPLIT | RETIRE
    before: list[str]
    after: list[str]


class Edge(NamedTuple):
    """A stored link between two active records (``a < b``) and its weight."""

    a: str
    b: str
    weight: float


class ScoredEdge(NamedTuple):
    """A scored pair at or above the link threshold, with the evidence of its levels."""

    a: str
    b: str
    weight: float
    evidence: dict[str, Any]


class Outcome(StrEnum):
    PSEUDONYMISED = "PSEUDONYMISED"
    SUPPRESSED = "SUPPRESSED"
    DEAD_LETTERED = "DEAD_LETTERED"
    QUARANTINED = "QUARANTINED"  # its ledger row could not be written (stream_processors.isolate)


@dataclass(frozen=True)
class LedgerEntry:
    """What happened to one raw message (no identifiers)."""

    topic: str
    partition: int
    offset: int
    outcome: Outcome
    reason: str | None = None
    event_id: str | None = None
    source_system: str = "unknown"
    event_type: str | None = None
    event_time: dt.datetime | None = None
    fields_present: int = 0
    field_issues: tuple[str, ...] = ()
    transliterated: int = 0  # names transliterated from another script
    replayed_from: str | None = None  # a replayed dead letter: the letter's position
