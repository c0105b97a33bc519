"""A blocking index built with other rules (or by an older release's pseudonymiser) is rebuilt
before the resolver's first batch, so new records still meet the stored ones."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import psycopg

from core.settings import Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from sink.linked import term_counts
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import BLOCKING_STATE, Resolver
from tests.pseudonymised import forwarded

Partition = frozenset[frozenset[str]]


def _messages() -> list[bytes]:
    return forwarded(BoroughGenerator(150, 9).events(), b"i")


async def _resolve(settings: Settings, messages: list[bytes], offset: int = 0) -> int:
    resolver = Resolver(settings, catalogue(), load_model())
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        chunk = [RawMessage("p", 0, offset + i, v) for i, v in enumerate(messages)]
        async with conn.transaction():
            await resolver.apply(conn, chunk)
            return await resolver.reindex_if_stale(conn)  # already current: nothing to do


def _partition(settings: Settings) -> Partition:
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute("SELECT person_id, record_key FROM memberships").fetchall()
    persons: dict[str, set[str]] = defaultdict(set)
    for person, key in rows:
        persons[person].add(key)
    return frozenset(frozenset(m) for m in persons.values())


def _term_holders(settings: Settings) -> set[tuple[bytes, str]]:
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute("SELECT token, record_key FROM term_holders").fetchall()
    assert rows
    return {(bytes(t), k) for t, k in rows}


def test_a_stale_blocking_index_is_rebuilt_before_the_first_batch(isolated: Any) -> None:
    messages = _messages()
    half = len(messages) // 2
    reference = isolated()
    asyncio.run(_resolve(reference, messages))
    settings = isolated()
    asyncio.run(_resolve(settings, messages[:half]))
    with psycopg.connect(settings.database_dsn) as conn:  # as an older release left it
        stored = conn.execute("SELECT count(*) FROM block_keys").fetchone()
        assert stored is not None and stored[0] > 1000
        conn.execute("UPDATE block_keys SET token = sha256(token || 'old'::bytea)")
        conn.execute("UPDATE term_holders SET token = sha256(token || 'old'::bytea)")
        conn.execute("UPDATE term_counts SET token = sha256(token || 'old'::bytea)")
        conn.execute("UPDATE resolver_state SET value = 'old' WHERE name = %s", (BLOCKING_STATE,))
    assert asyncio.run(_resolve(settings, messages[half:], half)) == 0
    assert _partition(settings) == _partition(reference)
    assert _term_holders(settings) == _term_holders(reference)  # the counts rebuilt too
    assert term_counts(settings.database_dsn) == term_counts(reference.database_dsn)
    with psycopg.connect(settings.database_dsn) as conn:
        state = conn.execute(
            "SELECT value FROM resolver_state WHERE name = %s", (BLOCKING_STATE,)
        ).fetchone()
    assert state == (load_model().blocking_version,)
