"""Headline figures of the linked store: records against unique people and families."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

FIGURES = """
WITH active AS (
  SELECT r.record_key, r.role, m.person_id FROM records r
  JOIN memberships m USING (record_key) WHERE r.state = 'ACTIVE'),
people AS (
  SELECT person_id, bool_or(role = 'CHILD') AS child FROM active GROUP BY person_id),
mothers AS (
  SELECT DISTINCT m.person_id AS child, mm.person_id AS mother
  FROM record_relations rr JOIN memberships m ON m.record_key = rr.record_key
  JOIN memberships mm ON mm.record_key = rr.related_key WHERE rr.relationship = 'MOTHER'),
anchors AS (
  SELECT coalesce((SELECT min(mother) FROM mothers WHERE mothers.child = p.person_id),
                  p.person_id) AS family
  FROM people p WHERE p.child
  UNION SELECT p.person_id FROM people p
  WHERE NOT p.child AND NOT EXISTS (SELECT 1 FROM mothers WHERE mothers.mother = p.person_id))
SELECT (SELECT count(*) FROM active),
       (SELECT count(*) FILTER (WHERE role = 'CHILD') FROM active),
       (SELECT count(*) FROM people),
       (SELECT count(*) FROM people WHERE child),
       (SELECT count(*) FROM anchors),
       (SELECT count(*) FROM records WHERE state <> 'ACTIVE'),
       (SELECT count(*) FROM identity_history WHERE kind = 'MERGE'),
       (SELECT count(*) FROM identity_history WHERE kind = 'SPLIT'),
       (SELECT count(*) FROM service_contacts),
       (SELECT count(*) FROM outcome_measures)
"""


@dataclass(frozen=True)
class Headline:
    records: int
    child_records: int
    persons: int
    children: int
    families: int
    suppressed_or_retracted: int
    merges: int
    splits: int
    contacts: int
    outcomes: int


def headline(dsn: str) -> Headline:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(FIGURES).fetchone()
    assert row is not None
    return Headline(*(int(v) for v in row))
