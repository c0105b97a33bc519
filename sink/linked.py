"""Reads of the linked result for evaluation against a truth file (``earlylink evaluate``), and
of what the graph's tables show a reader (``bench.privacy_attacks``)."""

from __future__ import annotations

from collections import defaultdict

import psycopg


def person_of_records(dsn: str) -> dict[str, str]:
    """Every active record's person."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT m.record_key, m.person_id FROM memberships m JOIN records r USING"
            " (record_key) WHERE r.state = 'ACTIVE'"
        ).fetchall()
    return {str(k): str(p) for k, p in rows}


def mothers_of_persons(dsn: str) -> dict[str, set[str]]:
    """Person -> the persons linked to it as its mother (through its records' relations)."""
    families: dict[str, set[str]] = defaultdict(set)
    with psycopg.connect(dsn) as conn:
        for child, mother in conn.execute(
            "SELECT DISTINCT m.person_id, mm.person_id FROM record_relations rr"
            " JOIN memberships m ON m.record_key = rr.record_key"
            " JOIN memberships mm ON mm.record_key = rr.related_key"
            " WHERE rr.relationship = 'MOTHER'"
        ).fetchall():
            families[str(child)].add(str(mother))
    return families


def partition(dsn: str) -> frozenset[frozenset[str]]:
    """The active records grouped by person, as a set of sets (for comparing two runs)."""
    groups: dict[str, set[str]] = defaultdict(set)
    for record, person in person_of_records(dsn).items():
        groups[person].add(record)
    return frozenset(frozenset(g) for g in groups.values())


def term_counts(dsn: str) -> dict[bytes, int]:
    """The resolver's count of each counted name token's digest (``term_counts``)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT token, holders FROM term_counts").fetchall()
    return {bytes(t): int(n) for t, n in rows}
