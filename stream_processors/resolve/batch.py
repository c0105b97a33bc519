"""Planning one micro-batch of pseudonymised events (pure): which records change, which pairs
to score, and the new clustering of the affected components."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sink.rows import ScoredEdge
from stream_processors.resolve.blocking import BlockingRule, keys_of
from stream_processors.resolve.cluster import Assignment, Edge, assign_ids, cluster
from stream_processors.resolve.constraints import cannot_link
from stream_processors.resolve.model import TWIN_NAME_DICE, Model, Terms
from stream_processors.resolve.records import LinkRecord, from_pseudo
from stream_processors.resolve.score import score_reaching
from stream_processors.turns import run_through


@dataclass
class Incoming:
    """A batch sorted by kind; person updates reduced to the newest version per record."""

    persons: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> PseudoRecord
    raw_persons: dict[str, bytes] = field(default_factory=dict)  # key -> message bytes
    contacts: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    withdrawals: list[dict[str, Any]] = field(default_factory=list)
    retractions: list[dict[str, Any]] = field(default_factory=list)
    raw_timestamps_ms: list[int] = field(default_factory=list)  # for end-to-end latency
    # messages that are not pseudonymised events: (position, reason), for the quarantine
    undecodable: list[tuple[tuple[str, int, int], str]] = field(default_factory=list)
    positions: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # key -> message
    prepared: Prepared | None = None  # worked out before the graph lock (``prepare``)


@dataclass(frozen=True)
class Prepared:
    """The batch's permitted person records as linkage reads them under ``key_version``, and
    their blocking keys: pure work done as the batch is decoded, while the batch before it
    lands, so that it is not on the serial path of the graph lock. A batch whose records turn
    out to link under another key version (a rotation switched it meanwhile) ignores it."""

    key_version: int
    records: dict[str, LinkRecord]
    keys: dict[str, tuple[bytes, ...]]

    def record(self, key: str, version: int) -> LinkRecord | None:
        return self.records.get(key) if version == self.key_version else None


def prepare(incoming: Incoming, key_version: int, rules: Sequence[BlockingRule]) -> Prepared:
    """``Prepared`` for the newest version of each person record in ``incoming`` that may
    link (consent permitted; the plan may still find it stale or ended, then it goes unused).
    A record that cannot be read so (a foreign writer's token too long for a key) is left out:
    under the lock it fails again where one message's failure is set aside with its reason
    (``stream_processors.isolate``), rather than here, where it would stop the processor."""
    return run_through(preparing(incoming, key_version, rules))


def preparing(
    incoming: Incoming, key_version: int, rules: Sequence[BlockingRule]
) -> Generator[None, None, Prepared]:
    """``prepare`` step by step: it yields after each record (``turns``)."""
    records, keys = {}, {}
    for key, record in incoming.persons.items():
        yield
        ready = _prepared(record, key_version, rules) if record["consent"] == "PERMITTED" else None
        if ready is not None:
            records[key], keys[key] = ready
    return Prepared(key_version, records, keys)


def _prepared(
    record: dict[str, Any], key_version: int, rules: Sequence[BlockingRule]
) -> tuple[LinkRecord, tuple[bytes, ...]] | None:
    try:
        linked = from_pseudo(record, key_version)
        return linked, keys_of(linked, rules)
    except Exception:  # noqa: BLE001 - any defect: the locked path fails on it again, isolated
        return None


def sort_batch(decoded: Iterable[tuple[str, dict[str, Any], bytes]]) -> Incoming:
    """(event type, record, raw bytes) -> Incoming. Within a batch the newest version wins."""
    batch = Incoming()
    for event_type, record, raw in decoded:
        if record.get("raw_timestamp_ms"):
            batch.raw_timestamps_ms.append(record["raw_timestamp_ms"])
        if event_type == "PseudoRecord":
            key = record["record_key"]
            held = batch.persons.get(key)
            if held is None or _newer(record, held):
                batch.persons[key] = record
                batch.raw_persons[key] = raw
            continue
        kind = record["kind"]
        if kind == "CONTACT":
            batch.contacts.append(record)
        elif kind == "OUTCOME":
            batch.outcomes.append(record)
        elif kind == "CONSENT_CHANGE" and record["consent"] in ("WITHDRAWN", "OPTED_OUT"):
            batch.withdrawals.append(record)
        elif kind == "RETRACTION":
            batch.retractions.append(record)
    return batch


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["record_version"], str(a["envelope"]["event_id"])) > (
        b["record_version"],
        str(b["envelope"]["event_id"]),
    )


def score_changed(
    changed: dict[str, LinkRecord],
    pool: dict[str, LinkRecord],
    pairs: Iterable[tuple[str, str]],
    model: Model,
    live: Terms | None = None,
) -> list[ScoredEdge]:
    """Score candidate pairs; keep those at or above the link threshold (with evidence);
    ``live``: the store's term counts (``terms``), for a model without a table of its own."""
    edges = []
    seen: set[tuple[str, str]] = set()
    for x, y in pairs:
        a, b = (x, y) if x < y else (y, x)
        if a == b or (a, b) in seen or a not in pool or b not in pool:
            continue
        seen.add((a, b))
        ra, rb = pool[a], pool[b]
        if ra.is_child != rb.is_child:
            continue  # a child and an adult are never one person: no need to score them
        present = model.present_in(model.presence(ra) & model.presence(rb), ra, rb)
        score = score_reaching(ra, rb, model, model.link_threshold, live, present)
        if score is not None and score.weight >= model.link_threshold:
            edges.append(ScoredEdge(a, b, score.weight, score.as_json(model.version)))
    return edges


def recluster(
    records: dict[str, LinkRecord],
    edges: Sequence[Edge],
    previous: dict[str, str],
    in_use_elsewhere: frozenset[str] = frozenset(),
    twin_name_dice: float = TWIN_NAME_DICE,
) -> Assignment:
    """Cluster the affected records from scratch and keep person ids where possible."""

    def forbidden(a: str, b: str) -> bool:
        return cannot_link(records[a], records[b], twin_name_dice) is not None

    clusters = cluster(records, edges, forbidden)
    return assign_ids(clusters, previous, in_use_elsewhere)
