"""Data quality and reconciliation figures per source system, read from the ingest ledger."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from core.vocabulary import FIELDS

WINDOWS = {"hour": "hour", "day": "day", "week": "week", "month": "month"}


@dataclass(frozen=True)
class Reconciliation:
    """One source's messages: ``pseudonymised`` went on to linkage, ``quarantined`` were set
    aside by a stage that could not write them (the pseudonymiser's ledger, or the resolver)."""

    source_system: str
    received: int
    pseudonymised: int
    suppressed: int
    dead_lettered: int
    quarantined: int = 0
    replays: int = 0  # of the received: dead letters replayed (counted again, once each time)
    letters_replayed: int = 0  # of the dead-lettered: replayed since, and taken that time

    @property
    def balanced(self) -> bool:
        return self.received == (
            self.pseudonymised + self.suppressed + self.dead_lettered + self.quarantined
        )


def reconcile(dsn: str) -> list[Reconciliation]:
    """Per source: received = pseudonymised + suppressed + dead-lettered + quarantined (a
    message the resolver quarantined counts there, not as pseudonymised, until it is replayed:
    ``earlylink quarantine replay``). A replayed dead letter
    is received again: ``replays`` says how many of the received were, ``letters_replayed`` how
    many of the dead-lettered were replayed and not dead-lettered again."""
    query = """
        WITH q AS (SELECT DISTINCT event_id FROM resolve_quarantine
                   WHERE event_id IS NOT NULL AND replayed_at IS NULL),
             r AS (SELECT DISTINCT event_id FROM ingest_ledger WHERE replayed_from IS NOT NULL
                   AND outcome <> 'DEAD_LETTERED' AND event_id IS NOT NULL)
        SELECT l.source_system, count(*),
               count(*) FILTER (WHERE outcome = 'PSEUDONYMISED' AND q.event_id IS NULL),
               count(*) FILTER (WHERE outcome = 'SUPPRESSED'),
               count(*) FILTER (WHERE outcome = 'DEAD_LETTERED'),
               count(*) FILTER (WHERE outcome = 'QUARANTINED'
                                   OR (outcome = 'PSEUDONYMISED' AND q.event_id IS NOT NULL)),
               count(*) FILTER (WHERE l.replayed_from IS NOT NULL),
               count(*) FILTER (WHERE outcome = 'DEAD_LETTERED' AND l.replayed_from IS NULL
                                   AND r.event_id IS NOT NULL)
        FROM ingest_ledger l LEFT JOIN q ON q.event_id = l.event_id
             LEFT JOIN r ON r.event_id = l.event_id
        GROUP BY l.source_system ORDER BY l.source_system"""
    with psycopg.connect(dsn) as conn:
        return [Reconciliation(*row) for row in conn.execute(query).fetchall()]


def ledger_count(dsn: str, topic: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM ingest_ledger WHERE topic = %s", (topic,)
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class QualityRow:
    source_system: str
    window: str
    received: int
    valid: int
    suppressed: int
    rejected: dict[str, int]
    field_issues: dict[str, int]
    completeness: dict[str, float]
    median_delay_s: float | None
    volume_ratio: float | None  # this window's count / mean of the source's earlier windows
    transliterated: int = 0  # names written in another script, transliterated to Latin


def quality(dsn: str, window: str = "day") -> list[QualityRow]:
    """Per source and window: counts, reasons, completeness, timeliness and volume."""
    unit = sql.Literal(WINDOWS[window])
    completeness = sql.SQL(", ").join(
        sql.SQL(
            "avg(((fields_present & {bit}) <> 0)::int) FILTER (WHERE event_type = "
            "'PersonRecord' AND outcome = 'PSEUDONYMISED')"
        ).format(bit=sql.Literal(1 << i))
        for i in range(len(FIELDS))
    )
    query = sql.SQL("""
        WITH w AS (
          SELECT source_system, date_trunc({unit}, processed_at) AS win, count(*) AS received,
                 count(*) FILTER (WHERE outcome = 'PSEUDONYMISED') AS valid,
                 count(*) FILTER (WHERE outcome = 'SUPPRESSED') AS suppressed,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY
                     extract(epoch FROM coalesce(raw_timestamp, processed_at) - event_time))
                     AS delay, {completeness}, sum(transliterated) AS transliterated
          FROM ingest_ledger GROUP BY 1, 2)
        SELECT w.*, w.received / nullif(avg(w.received) OVER (PARTITION BY source_system
                   ORDER BY win ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
        FROM w ORDER BY source_system, win""").format(unit=unit, completeness=completeness)
    reasons = sql.SQL("""
        SELECT source_system, date_trunc({unit}, processed_at), kind, code, count(*) FROM (
          SELECT source_system, processed_at, 'rejected' AS kind, reason AS code
          FROM ingest_ledger WHERE outcome = 'DEAD_LETTERED'
          UNION ALL
          SELECT source_system, processed_at, 'field', unnest(field_issues) FROM ingest_ledger
        ) x GROUP BY 1, 2, 3, 4""").format(unit=unit)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(query).fetchall()
        detail: dict[tuple[str, str, str], dict[str, int]] = {}
        for source, win, kind, code, count in conn.execute(reasons).fetchall():
            detail.setdefault((source, str(win), kind), {})[code] = count
    out = []
    for row in rows:
        source, win, received, valid, suppressed, delay, *fields, transliterated, ratio = row
        key = str(win)
        out.append(
            QualityRow(
                source,
                key,
                received,
                valid,
                suppressed,
                detail.get((source, key, "rejected"), {}),
                detail.get((source, key, "field"), {}),
                {name: float(v) for name, v in zip(FIELDS, fields, strict=True) if v is not None},
                float(delay) if delay is not None else None,
                float(ratio) if ratio is not None else None,
                int(transliterated or 0),
            )
        )
    return out
