"""The identity graph in PostgreSQL: the resolver's reads and writes, batched per call.

Every function takes an open connection inside the batch's transaction; the caller commits
once per batch together with the offsets. Arrays of keys and tokens go as binary parameters
(``ANY(%b)``): as text, psycopg quotes each element in Python (a batch's ~2,500 blocking tokens
took ~6 ms that way, ~1.2 ms in binary).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg.rows import class_row

from schemas.limits import FINAL_VERSION
from sink.bulk import copy_rows, insert_new
from sink.rows import (
    AuditRow,
    BlockKey,
    ContactRow,
    Edge,
    EndRow,
    HistoryRow,
    OutcomeRow,
    QuarantineRow,
    RecordRow,
    RelationRow,
    ScoredEdge,
    StoredPayload,
    StoredRecord,
)

Conn = psycopg.AsyncConnection[tuple[Any, ...]]
CONTACT_COLUMNS = (
    "item_key",
    "record_key",
    "source_system",
    "service_code",
    "activity_code",
    "contact_type",
    "contact_date",
    "location_code",
    "event_id",
)
OUTCOME_COLUMNS = (
    "item_key",
    "record_key",
    "source_system",
    "tool_code",
    "domain",
    "score",
    "measured_on",
    "event_id",
)
GRAPH_LOCK = 0x67726170  # "grap": one writer of the graph at a time, across workers


async def lock_graph(conn: Conn) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (GRAPH_LOCK,))


async def stored_versions(conn: Conn, keys: list[str]) -> dict[str, StoredRecord]:
    rows = await (
        await conn.execute(
            "SELECT record_key, record_version, state, event_id::text FROM records"
            " WHERE record_key = ANY(%b)",
            (keys,),
        )
    ).fetchall()
    return {r[0]: StoredRecord(r[0], r[1], r[2], r[3]) for r in rows}


async def upsert_records(conn: Conn, rows: list[RecordRow]) -> None:
    """New versions of records (a version that is not newer than the stored one is a no-op).
    One statement for the batch (a row each cost a statement before); of two rows of one
    record, the newer is written, as one after the other would leave it."""
    if not rows:
        return
    newest: dict[str, RecordRow] = {}
    for row in rows:
        held = newest.get(row.record_key)
        if held is None or _version(held) < _version(row):
            newest[row.record_key] = row
    columns = [list(c) for c in zip(*newest.values(), strict=True)]
    await conn.execute(
        """
            INSERT INTO records (record_key, source_system, role, record_version, state,
                                 consent, event_id, event_time, payload, area)
            SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::bigint[], %b::text[],
                                 %b::text[], %b::uuid[], %b::timestamptz[], %b::bytea[],
                                 %b::text[])
            ON CONFLICT (record_key) DO UPDATE SET
              role = EXCLUDED.role, record_version = EXCLUDED.record_version,
              state = EXCLUDED.state, consent = EXCLUDED.consent, event_id = EXCLUDED.event_id,
              event_time = EXCLUDED.event_time, payload = EXCLUDED.payload,
              area = EXCLUDED.area, updated_at = now()
            WHERE (records.record_version, records.event_id::text)
                  < (EXCLUDED.record_version, EXCLUDED.event_id::text)
              AND records.record_version < %b""",
        (*columns, FINAL_VERSION),  # a tombstone's version: nothing revives it
    )


def _version(row: RecordRow) -> tuple[int, str]:
    """How versions of one record order (as the upsert's condition compares them)."""
    return row.record_version, str(row.event_id)


async def mark_records(conn: Conn, rows: list[EndRow], state: str, consent: str) -> None:
    """Withdraw or retract records: purge their tokens and
    encodings for good. A record not seen yet gets a tombstone, so arrival order cannot matter."""
    async with conn.cursor() as cur:
        await cur.executemany(
            """
            INSERT INTO records (record_key, source_system, role, record_version, state, consent,
                                 event_id, event_time, payload)
            VALUES (%s, %s, 'UNKNOWN', %s, %s, %s, %s, %s, NULL)
            ON CONFLICT (record_key) DO UPDATE SET state = EXCLUDED.state,
              consent = EXCLUDED.consent, record_version = EXCLUDED.record_version,
              payload = NULL, updated_at = now()""",
            [(k, src, FINAL_VERSION, state, consent, eid, at) for k, src, eid, at in rows],
        )


BLOCKS = "block_keys"  # the blocking index: token -> its records
TERMS = "term_holders"  # who holds each counted name token (``stream_processors.resolve.terms``)
_INDEXES = {name: psycopg.sql.Identifier(name) for name in (BLOCKS, TERMS)}


async def replace_block_keys(
    conn: Conn, keys: list[str], tokens: list[BlockKey], index: str = BLOCKS
) -> None:
    """The rows of ``keys`` in ``index`` become ``tokens`` (under the graph lock, so after the
    delete no row of theirs can be there: COPY, with repeats in ``tokens`` dropped)."""
    query = psycopg.sql.SQL("DELETE FROM {} WHERE record_key = ANY(%b)").format(_INDEXES[index])
    await conn.execute(query, (keys,))
    if tokens:
        await copy_rows(conn, index, ("token", "record_key"), dict.fromkeys(tokens))


async def state(conn: Conn, name: str) -> str | None:
    row = await (
        await conn.execute("SELECT value FROM resolver_state WHERE name = %s", (name,))
    ).fetchone()
    return str(row[0]) if row else None


async def set_state(conn: Conn, name: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO resolver_state (name, value) VALUES (%s, %s) ON CONFLICT (name)"
        " DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        (name, value),
    )


async def active_after(conn: Conn, after: str, limit: int) -> list[StoredPayload]:
    """Up to ``limit`` active records with a key after ``after``, in key order."""
    rows = await (
        await conn.execute(
            "SELECT record_key, record_version, payload FROM records WHERE state = 'ACTIVE'"
            " AND payload IS NOT NULL AND record_key > %s ORDER BY record_key LIMIT %s",
            (after, limit),
        )
    ).fetchall()
    return [StoredPayload(r[0], int(r[1]), bytes(r[2])) for r in rows]


async def replace_payloads(conn: Conn, rows: list[StoredPayload]) -> int:
    """Replace the payloads of active records at the versions given (``earlylink keys rotate``
    re-keys them); a record withdrawn or changed since it was read is left as it is. Returns
    how many were replaced."""
    async with conn.cursor() as cur:
        await cur.executemany(
            "UPDATE records SET payload = %s, updated_at = now() WHERE record_key = %s"
            " AND record_version = %s AND state = 'ACTIVE' AND payload IS NOT NULL",
            [(r.payload, r.record_key, r.record_version) for r in rows],
            returning=False,
        )
        return max(cur.rowcount, 0)


async def active_count(conn: Conn, after: str = "") -> int:
    """How many active records there are with a key after ``after``."""
    row = await (
        await conn.execute(
            "SELECT count(*) FROM records WHERE state = 'ACTIVE' AND payload IS NOT NULL"
            " AND record_key > %s",
            (after,),
        )
    ).fetchone()
    return int(row[0]) if row else 0


async def block_tokens_of(conn: Conn, keys: list[str], index: str = BLOCKS) -> list[bytes]:
    """The tokens the records ``keys`` hold now in ``index`` (with repeats: one per record)."""
    query = psycopg.sql.SQL("SELECT token FROM {} WHERE record_key = ANY(%b)").format(
        _INDEXES[index]
    )
    rows = await (await conn.execute(query, (keys,))).fetchall()
    return [bytes(r[0]) for r in rows]


async def block_members(
    conn: Conn, tokens: list[bytes], cap: int
) -> dict[bytes, tuple[int, list[str] | None]]:
    """Each token's number of holders, and the holders themselves where they are ``cap`` or
    fewer (a bigger block is skipped: its members are not fetched). The result is a batch's
    biggest (~50 members a record): read in binary, which psycopg parses in ~3/4 the time."""
    async with conn.cursor(binary=True) as cur:
        await cur.execute(
            """
        SELECT token, count(*),
               CASE WHEN count(*) <= %s THEN array_agg(record_key ORDER BY record_key) END
        FROM block_keys WHERE token = ANY(%b) GROUP BY token""",
            (cap, tokens),
        )
        rows = await cur.fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


async def holders(conn: Conn, tokens: list[bytes]) -> list[str]:
    """The records holding any of the blocking keys ``tokens``."""
    rows = await (
        await conn.execute(
            "SELECT DISTINCT record_key FROM block_keys WHERE token = ANY(%b)", (tokens,)
        )
    ).fetchall()
    return sorted(r[0] for r in rows)


async def holder_counts(conn: Conn, tokens: list[bytes]) -> dict[bytes, int]:
    """How many records hold each of ``tokens`` among the counted name tokens (none: absent),
    as ``term_counts`` keeps them."""
    rows = await (
        await conn.execute(
            "SELECT token, holders FROM term_counts WHERE token = ANY(%b)", (tokens,)
        )
    ).fetchall()
    return {bytes(r[0]): int(r[1]) for r in rows}


async def term_rows_of(conn: Conn, keys: list[str]) -> list[BlockKey]:
    """The counted name tokens the records ``keys`` hold now."""
    rows = await (
        await conn.execute(
            "SELECT token, record_key FROM term_holders WHERE record_key = ANY(%b)", (keys,)
        )
    ).fetchall()
    return [BlockKey(bytes(r[0]), r[1]) for r in rows]


async def move_terms(
    conn: Conn, removed: list[BlockKey], added: list[BlockKey], moved: dict[bytes, int]
) -> dict[bytes, int]:
    """Counted name tokens' rows: ``removed`` go, ``added`` (none of them there: the caller
    holds the graph lock and read the rows) come, and each token's count in ``term_counts``
    moves by ``moved`` (their difference). Returns the count now of every token in ``moved``
    (0: no record holds it any more, and its count's row is gone)."""
    if removed:
        await conn.execute(
            "DELETE FROM term_holders t USING unnest(%b::bytea[], %b::text[]) AS p(token, k)"
            " WHERE t.token = p.token AND t.record_key = p.k",
            ([r.token for r in removed], [r.record_key for r in removed]),
        )
    if added:
        await copy_rows(conn, TERMS, ("token", "record_key"), added)
    tokens = sorted(moved)
    if not tokens:
        return {}
    rows = await (
        await conn.execute(
            "INSERT INTO term_counts (token, holders)"
            " SELECT * FROM unnest(%b::bytea[], %b::int[])"
            " ON CONFLICT (token) DO UPDATE SET holders = term_counts.holders + EXCLUDED.holders"
            " WHERE term_counts.holders + EXCLUDED.holders > 0"
            " RETURNING token, holders",
            (tokens, [moved[t] for t in tokens]),
        )
    ).fetchall()
    now = dict.fromkeys(tokens, 0) | {bytes(r[0]): max(int(r[1]), 0) for r in rows}
    gone = [t for t, n in now.items() if n == 0]
    if gone:
        await conn.execute("DELETE FROM term_counts WHERE token = ANY(%b)", (gone,))
    return now


async def recount_terms(conn: Conn) -> None:
    """``term_counts`` rebuilt from the holders' rows (after the index is rebuilt whole)."""
    await conn.execute("DELETE FROM term_counts")
    await conn.execute(
        "INSERT INTO term_counts (token, holders)"
        " SELECT token, count(*) FROM term_holders GROUP BY token"
    )


ACTIVE_AMONG = (
    " FROM records WHERE record_key = ANY(%b) AND state = 'ACTIVE' AND payload IS NOT NULL"
)


async def active_versions(conn: Conn, keys: Iterable[str]) -> dict[str, int]:
    """The current version of each active record among ``keys``."""
    query = "SELECT record_key, record_version" + ACTIVE_AMONG
    rows = await (await conn.execute(query, (sorted(set(keys)),))).fetchall()
    return {r[0]: int(r[1]) for r in rows}


async def payloads(conn: Conn, keys: Iterable[str]) -> dict[str, StoredPayload]:
    """The current version and pseudonymised payload of each active record among ``keys``."""
    query = "SELECT record_key, record_version, payload" + ACTIVE_AMONG
    rows = await (await conn.execute(query, (sorted(set(keys)),))).fetchall()
    return {r[0]: StoredPayload(r[0], int(r[1]), bytes(r[2])) for r in rows}


async def replace_edges(
    conn: Conn,
    keys: list[str],
    edges: list[ScoredEdge],
    model_version: str,
) -> None:
    """Drop every edge touching ``keys`` and store the new ones (each once, a < b).

    Every new edge touches ``keys`` and the batch holds the graph lock, so after the delete the
    rows are new: COPY, the last of a pair scored twice winning."""
    await conn.execute("DELETE FROM match_edges WHERE a = ANY(%b) OR b = ANY(%b)", (keys, keys))
    await _write_edges(conn, edges, model_version)


async def replace_pair_edges(
    conn: Conn, pairs: list[tuple[str, str]], edges: list[ScoredEdge], model_version: str
) -> None:
    """The stored links of ``pairs`` become ``edges`` (each one of those pairs, in place: its
    weight and evidence); a pair with no edge in ``edges`` is unlinked. One primary-key
    lookup a pair (a link is one row, a < b)."""
    kept = {_ordered(e.a, e.b) for e in edges}
    gone = [p for p in {_ordered(*p) for p in pairs} if p not in kept]
    if gone:
        await conn.execute(
            "DELETE FROM match_edges e USING unnest(%b::text[], %b::text[]) AS p(a, b)"
            " WHERE e.a = p.a AND e.b = p.b",
            ([p[0] for p in gone], [p[1] for p in gone]),
        )
    if edges:
        ends = [_ordered(e.a, e.b) for e in edges]
        weights = [e.weight for e in edges]
        evidence = [_json(e.evidence) for e in edges]
        await conn.execute(
            "UPDATE match_edges e SET weight = u.w, evidence = u.ev::jsonb, model_version = %b"
            " FROM unnest(%b::text[], %b::text[], %b::float8[], %b::text[]) AS u(a, b, w, ev)"
            " WHERE e.a = u.a AND e.b = u.b",
            (model_version, [p[0] for p in ends], [p[1] for p in ends], weights, evidence),
        )


def _json(evidence: dict[str, Any]) -> str:
    """A link's evidence as JSON text (orjson: the resolver writes one for every link it
    makes or re-weighs, and the standard library's encoder was ~2 % of its samples)."""
    return orjson.dumps(evidence).decode()


def _ordered(a: str, b: str) -> tuple[str, str]:
    """A link's stored ends: the smaller key first, by code point (``match_edges_once``
    compares with COLLATE "C", which orders UTF-8 text the same way)."""
    return (a, b) if a < b else (b, a)


async def _write_edges(conn: Conn, edges: list[ScoredEdge], model_version: str) -> None:
    """Store new links, each once (COPY, the last of a pair scored twice winning)."""
    rows: dict[tuple[str, str], tuple[str, str, float, str, str]] = {}
    for a, b, weight, evidence in edges:
        ends = _ordered(a, b)
        rows[ends] = (*ends, weight, _json(evidence), model_version)
    if rows:
        columns = ("a", "b", "weight", "evidence", "model_version")
        await copy_rows(conn, "match_edges", columns, rows.values())


async def component(conn: Conn, seeds: list[str]) -> list[str]:
    """Every record connected to the seeds by edges, or by sharing their current persons.

    Breadth-first, one indexed lookup per step (components are a handful of records), so the
    cost follows the component's size, not the graph's.
    """
    found = set(seeds)
    rows = await (
        await conn.execute(
            "SELECT m2.record_key FROM memberships m1 JOIN memberships m2 USING (person_id)"
            " WHERE m1.record_key = ANY(%b)",
            (seeds,),
        )
    ).fetchall()
    frontier = {r[0] for r in rows} | found
    found |= frontier
    while frontier:
        ends = sorted(frontier)
        rows = await (
            await conn.execute(
                "SELECT b FROM match_edges WHERE a = ANY(%b)"
                " UNION ALL SELECT a FROM match_edges WHERE b = ANY(%b)",
                (ends, ends),
            )
        ).fetchall()
        frontier = {r[0] for r in rows} - found
        found |= frontier
    return sorted(found)


async def edges_among(conn: Conn, keys: list[str]) -> list[Edge]:
    """The stored links of the records ``keys`` (a < b). Only ``a`` is looked up: ``keys`` is
    a whole component (``component``: closed under links), so ``b`` is among them too; for
    any other set, a link to a record outside it comes back when that record's key sorts
    after its own."""
    rows = await (
        await conn.execute("SELECT a, b, weight FROM match_edges WHERE a = ANY(%b)", (keys,))
    ).fetchall()
    return [Edge(r[0], r[1], float(r[2])) for r in rows]


async def links_within(
    conn: Conn, keys: list[str], keep: Callable[[str, str], bool] | None = None
) -> list[ScoredEdge]:
    """The stored links with both records among ``keys``, each once (a < b); only those
    ``keep`` says yes to, when given (the others' evidence is not read)."""
    rows = await (
        await conn.execute(
            "SELECT a, b, weight, evidence::text FROM match_edges"
            " WHERE a = ANY(%b) AND b = ANY(%b)",
            (keys, keys),
        )
    ).fetchall()
    return [
        ScoredEdge(r[0], r[1], float(r[2]), orjson.loads(r[3]))
        for r in rows
        if keep is None or keep(r[0], r[1])
    ]


async def open_records(conn: Conn, keys: list[str]) -> list[str]:
    """The records among ``keys`` in no person yet, or in a person with a link to a record
    outside it (a merge the constraints refused: how its component clusters can depend on
    the links' order). A person with none is a connected component whose records can all be
    one person, so it clusters the same whatever its links weigh, while none of them goes.

    Three lookups by index, each on one table (a join here was planned as scans while the
    tables grew: seconds a batch)."""
    person_of = await memberships(conn, keys)
    rows = await (
        await conn.execute(
            "SELECT record_key, person_id FROM memberships WHERE person_id = ANY(%b)",
            (sorted(set(person_of.values())),),
        )
    ).fetchall()
    person_of.update({r[0]: r[1] for r in rows})
    ends = sorted(person_of)
    links = await (  # (one of ``person_of``, the other end), from whichever end it is
        await conn.execute(
            "SELECT a, b FROM match_edges WHERE a = ANY(%b)"
            " UNION ALL SELECT b, a FROM match_edges WHERE b = ANY(%b)",
            (ends, ends),
        )
    ).fetchall()
    outside = {r[1] for r in links} - set(person_of)
    person_of.update(await memberships(conn, sorted(outside)) if outside else {})
    open_persons = {person_of[a] for a, b in links if person_of.get(b) != person_of[a]}
    return sorted(k for k in set(keys) if person_of.get(k) in open_persons or k not in person_of)


async def term_holders(conn: Conn, tokens: list[bytes]) -> dict[bytes, list[str]]:
    """The records holding each of ``tokens`` among the counted name tokens."""
    rows = await (
        await conn.execute(
            "SELECT token, array_agg(record_key) FROM term_holders WHERE token = ANY(%b)"
            " GROUP BY token",
            (tokens,),
        )
    ).fetchall()
    return {bytes(r[0]): list(r[1]) for r in rows}


async def memberships(conn: Conn, keys: list[str]) -> dict[str, str]:
    rows = await (
        await conn.execute(
            "SELECT record_key, person_id FROM memberships WHERE record_key = ANY(%b)", (keys,)
        )
    ).fetchall()
    return {r[0]: r[1] for r in rows}


async def existing_persons(conn: Conn, ids: list[str]) -> list[str]:
    """Which of ``ids`` already name a person or an alias."""
    rows = await (
        await conn.execute(
            "SELECT person_id FROM persons WHERE person_id = ANY(%b)"
            " UNION SELECT old_id FROM person_aliases WHERE old_id = ANY(%b)",
            (ids, ids),
        )
    ).fetchall()
    return [r[0] for r in rows]


async def write_persons(
    conn: Conn,
    component_keys: list[str],
    persons: dict[str, frozenset[str]],
    aliases: dict[str, str],
    retired: list[str],
) -> None:
    """Replace the component's memberships and person rows with the new assignment."""
    await conn.execute("DELETE FROM memberships WHERE record_key = ANY(%b)", (component_keys,))
    await copy_rows(
        conn,
        "memberships",
        ("record_key", "person_id"),
        [(k, pid) for pid, members in persons.items() for k in sorted(members)],
    )
    if persons:  # one statement each (the ids are a dict's keys: no id twice)
        await conn.execute(
            "INSERT INTO persons (person_id, record_count)"
            " SELECT * FROM unnest(%b::text[], %b::int[])"
            " ON CONFLICT (person_id) DO UPDATE SET record_count = EXCLUDED.record_count,"
            " updated_at = now()",
            (list(persons), [len(m) for m in persons.values()]),
        )
    if aliases:
        await conn.execute(
            "INSERT INTO person_aliases (old_id, new_id)"
            " SELECT * FROM unnest(%b::text[], %b::text[])"
            " ON CONFLICT (old_id) DO UPDATE SET new_id = EXCLUDED.new_id, merged_at = now()",
            (sorted(aliases), [aliases[k] for k in sorted(aliases)]),
        )
    gone = sorted(set(aliases) | set(retired))
    await conn.execute("DELETE FROM persons WHERE person_id = ANY(%b)", (gone,))
    # an id in use again is no longer an alias; aliases pointing at a merged-away id follow it
    await conn.execute("DELETE FROM person_aliases WHERE old_id = ANY(%b)", (sorted(persons),))
    async with conn.cursor() as cur:
        await cur.executemany(
            "UPDATE person_aliases SET new_id = %s WHERE new_id = %s",
            [(new, old) for old, new in sorted(aliases.items())],
        )


async def record_history(conn: Conn, events: list[HistoryRow], model_version: str) -> None:
    """Merges, splits and retirements (kind, before ids, after ids) into the history, which is
    also the outbox: each about ``subject`` (the first id after, else before) with that
    subject's next sequence number (one writer under the graph lock), to be published."""
    if events:
        async with conn.cursor() as cur:
            await cur.executemany(
                """
                INSERT INTO identity_history (kind, before_ids, after_ids, model_version,
                                              subject, sequence)
                SELECT %(kind)s, %(before)s, %(after)s, %(model)s, %(subject)s,
                       coalesce(max(sequence), 0) + 1
                FROM identity_history WHERE subject = %(subject)s""",
                [
                    {
                        "kind": kind,
                        "before": before,
                        "after": after,
                        "model": model_version,
                        "subject": (after or before)[0],
                    }
                    for kind, before, after in events
                ],
            )


@dataclass(frozen=True)
class IdentityChange:
    """One row of the outbox, as published."""

    id: int
    kind: str
    before: list[str]
    after: list[str]
    at: Any
    model_version: str
    subject: str
    sequence: int | None  # None: written by a resolver from before the outbox


async def claim_unpublished(conn: Conn, limit: int) -> list[IdentityChange]:
    """The oldest unpublished changes, locked for this transaction (another worker skips them)."""
    rows = await (
        await conn.execute(
            # a row an older resolver wrote has no subject or sequence: derived, or none
            "SELECT id, kind, before_ids, after_ids, at, model_version,"
            " coalesce(subject, after_ids[1], before_ids[1], ''), sequence"
            " FROM identity_history WHERE published_at IS NULL ORDER BY id LIMIT %s"
            " FOR UPDATE SKIP LOCKED",
            (limit,),
        )
    ).fetchall()
    return [IdentityChange(*row) for row in rows]


async def mark_published(conn: Conn, ids: list[int]) -> None:
    await conn.execute(
        "UPDATE identity_history SET published_at = now() WHERE id = ANY(%s)", (ids,)
    )


async def write_relations(conn: Conn, keys: list[str], rows: list[RelationRow]) -> None:
    """The relations of ``keys`` become ``rows``."""
    if keys:
        await conn.execute("DELETE FROM record_relations WHERE record_key = ANY(%b)", (keys,))
    if rows:  # one statement (a row twice is one row: DO NOTHING)
        columns = [list(c) for c in zip(*rows, strict=True)]
        await conn.execute(
            "INSERT INTO record_relations (record_key, related_key, relationship)"
            " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) ON CONFLICT DO NOTHING",
            columns,
        )


async def write_contacts(conn: Conn, rows: list[ContactRow]) -> None:
    """Contacts not stored yet (by item key; a repeated event is a no-op)."""
    await insert_new(conn, "service_contacts", CONTACT_COLUMNS, rows)


async def write_outcomes(conn: Conn, rows: list[OutcomeRow]) -> None:
    """Outcome measures not stored yet (by item key)."""
    await insert_new(conn, "outcome_measures", OUTCOME_COLUMNS, rows)


async def not_linkable(conn: Conn, keys: list[str]) -> list[str]:
    """Which of ``keys`` are not active: withdrawn or retracted for good, or opted out."""
    rows = await (
        await conn.execute(
            "SELECT record_key FROM records WHERE record_key = ANY(%b) AND state <> 'ACTIVE'",
            (keys,),
        )
    ).fetchall()
    return [r[0] for r in rows]


async def purge_activity(conn: Conn, keys: list[str]) -> None:
    """Withdrawal/retraction: the record's contacts, outcomes and relations go too."""
    if not keys:
        return
    for table in ("service_contacts", "outcome_measures"):
        await conn.execute(
            psycopg.sql.SQL("DELETE FROM {} WHERE record_key = ANY(%b)").format(
                psycopg.sql.Identifier(table)
            ),
            (keys,),
        )
    await conn.execute(
        "DELETE FROM record_relations WHERE record_key = ANY(%b) OR related_key = ANY(%b)",
        (keys, keys),
    )


async def quarantine(conn: Conn, rows: list[QuarantineRow]) -> None:
    """Messages set aside at their positions (a replayed position is a no-op)."""
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO resolve_quarantine (topic, kafka_partition, kafka_offset, event_id,"
                " source_system, event_type, reason, payload)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )


async def unattributed_quarantine(
    conn: Conn, after: tuple[str, int, int] | None, limit: int
) -> list[QuarantineRow]:
    """Up to ``limit`` messages set aside, not replayed, with no event known (a resolver that
    could not decode them wrote them), in position order after ``after`` (topic, partition,
    offset; None: from the first)."""
    async with conn.cursor(row_factory=class_row(QuarantineRow)) as cur:
        await cur.execute(
            "SELECT topic, kafka_partition, kafka_offset, event_id, source_system, event_type,"
            " reason, payload FROM resolve_quarantine WHERE event_id IS NULL"
            " AND replayed_at IS NULL AND (topic, kafka_partition, kafka_offset) > (%s, %s, %s)"
            " ORDER BY topic, kafka_partition, kafka_offset LIMIT %s",
            (*(after or ("", -1, -1)), limit),
        )
        return await cur.fetchall()


async def attribute_quarantine(conn: Conn, rows: list[QuarantineRow]) -> None:
    """Give messages set aside the event, source and type read off them now (each at its
    position, and only where none is known)."""
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(
                "UPDATE resolve_quarantine SET event_id = %s, source_system = %s,"
                " event_type = %s WHERE topic = %s AND kafka_partition = %s"
                " AND kafka_offset = %s AND event_id IS NULL",
                [(r.event_id, r.source_system, r.event_type, *r[:3]) for r in rows],
            )


async def audit(conn: Conn, rows: list[AuditRow]) -> None:
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO audit_log (action, reason, record_key,"
                " source_system, event_id) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (action, event_id, record_key) DO NOTHING",  # a replay's repeat
                rows,
            )


def stored_state(dsn: str, name: str) -> str | None:
    """One ``resolver_state`` value, read on a connection of its own (for the commands)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT value FROM resolver_state WHERE name = %s", (name,)).fetchone()
    return str(row[0]) if row else None


def active_payloads(dsn: str, limit: int) -> list[bytes]:
    """Up to ``limit`` active records' pseudonymised payloads (for training)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT payload FROM records WHERE state = 'ACTIVE' AND payload IS NOT NULL"
            " ORDER BY record_key LIMIT %s",
            (limit,),
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def blocked_pairs(dsn: str, cap: int) -> set[tuple[str, str]]:
    """Every pair of records that shares a blocking token in a block within ``cap`` (the pairs
    the resolver compares, for measuring blocking recall)."""
    with psycopg.connect(dsn) as conn:
        blocks = conn.execute(
            "SELECT array_agg(record_key ORDER BY record_key) FROM block_keys"
            " GROUP BY token HAVING count(*) BETWEEN 2 AND %s",
            (cap,),
        ).fetchall()
    return {pair for (members,) in blocks for pair in itertools.combinations(members, 2)}
