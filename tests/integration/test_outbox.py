"""Identity changes survive a crash between the resolver's commit and their publication: the
graph's outbox (``identity_history``) holds them, and a resolver publishes every one (merges,
splits and retirements) with a per-person sequence, at least once."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg
from confluent_kafka import Consumer

from core.settings import Settings
from schemas.catalogue import catalogue
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver
from tests.conftest import outside_decoder
from tests.integration.test_resolve_order import pseudonymised  # noqa: F401 (fixture)


async def _commit_without_publishing(settings: Settings, messages: list[bytes]) -> None:
    """What a resolver killed after each commit, before publishing, leaves behind."""
    resolver = Resolver(settings, catalogue(), load_model())
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        for start in range(0, len(messages), 60):
            chunk = [
                RawMessage("elsewhere", 0, start + i, v)
                for i, v in enumerate(messages[start : start + 60])
            ]
            await resolver.commit(conn, batch=chunk, incoming=resolver.decode_all(chunk))


def _consume(settings: Settings, want: int, timeout_s: float = 60) -> list[dict[str, Any]]:
    """The identity changes, read as a consumer that is not ours would (Confluent framing)."""
    outside = outside_decoder(settings)
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": f"outbox-test-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([settings.kafka.topic("identity-changes")])
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(seen) < want and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                value = outside(message.value() or b"", message.topic() or "")
                assert message.key() == value["subject"].encode()
                seen.append(value)
    finally:
        consumer.close()
    return seen


def test_changes_committed_before_a_crash_are_all_published(
    fresh_settings: Settings,
    run_processor: Callable[..., Any],
    pseudonymised: list[bytes],  # noqa: F811 (the imported fixture)
) -> None:
    settings = fresh_settings
    asyncio.run(_commit_without_publishing(settings, pseudonymised))
    with psycopg.connect(settings.database_dsn) as conn:
        stored = conn.execute(
            "SELECT kind, subject, sequence FROM identity_history WHERE published_at IS NULL"
        ).fetchall()
    kinds = {kind for kind, _, _ in stored}
    assert {"MERGE", "SPLIT"} <= kinds or {"MERGE", "RETIRE"} <= kinds, kinds

    resolve = run_processor("resolve", settings)  # publishes what it finds pending at start
    seen = _consume(settings, len(stored))
    assert resolve.poll() is None
    assert sorted((v["kind"], v["subject"], v["sequence"]) for v in seen) == sorted(stored)
    by_subject: dict[str, list[int]] = defaultdict(list)
    for value in seen:
        by_subject[value["subject"]].append(value["sequence"])
    assert all(s == list(range(1, len(s) + 1)) for s in by_subject.values())  # no gap, in order
    with psycopg.connect(settings.database_dsn) as conn:
        left = conn.execute(
            "SELECT count(*) FROM identity_history WHERE published_at IS NULL"
        ).fetchone()
    assert left == (0,)
