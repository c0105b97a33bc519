"""Sequence neutrality on real PostgreSQL: the same pseudonymised records in several orders, in
different batch sizes and replayed with duplicates, give exactly the same partition into persons
as one batch over everything: also with a block cap small enough that many blocking keys cross
it (and drop back under it as records are withdrawn), and with records sent twice at one
version with different content."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections import defaultdict
from typing import Any

import psycopg
import pytest

from earlylink.settings import Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import Event, PersonRecord
from schemas.wire import encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver

Partition = frozenset[frozenset[str]]


def _same_version_twin(event: PersonRecord, i: int) -> PersonRecord:
    """The record again at the same version, with other content and another event id (a
    source re-sending a corrected record without bumping its version)."""
    return event.model_copy(
        update={
            "envelope": event.envelope.model_copy(update={"event_id": uuid.UUID(int=i + 1)}),
            "given_names": f"{event.given_names or ''}x",
            "postcode": None,
        }
    )


@pytest.fixture(scope="module")
def pseudonymised() -> list[bytes]:
    """A small borough's events as the pseudonymiser forwards them, with every 25th person
    record also sent again at the same version with different content."""
    ring = Keyring({1: b"s" * 32}, 1)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring))
    now = dt.datetime.now(dt.UTC)
    events: list[Event] = []
    for i, event in enumerate(BoroughGenerator(400, 5).events()):
        events.append(event)
        if isinstance(event, PersonRecord) and i % 25 == 0:
            events.append(_same_version_twin(event, i))
    out = []
    for i, event in enumerate(events):
        data = encode(
            catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro()
        )
        result = stage.process(RawMessage("raw", 0, i, data), now)
        if result.value is not None:
            out.append(result.value)
    return out


async def _resolve(settings: Settings, messages: list[bytes], batch: int) -> Partition:
    resolver = Resolver(settings, catalogue(), load_model())
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        for start in range(0, len(messages), batch):
            chunk = [
                RawMessage("p", 0, start + i, v)
                for i, v in enumerate(messages[start : start + batch])
            ]
            async with conn.transaction():
                await resolver.apply(conn, chunk)
        rows = await (
            await conn.execute("SELECT person_id, record_key FROM memberships")
        ).fetchall()
    persons: dict[str, set[str]] = defaultdict(set)
    for person, key in rows:
        persons[person].add(key)
    return frozenset(frozenset(m) for m in persons.values())


def _activity(settings: Settings) -> tuple[Any, ...]:
    """Relations, contacts and outcomes as stored (withdrawn records' ones purged)."""
    with psycopg.connect(settings.database_dsn) as conn:
        relations = conn.execute(
            "SELECT record_key, related_key, relationship FROM record_relations"
        ).fetchall()
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM service_contacts),"
            " (SELECT count(*) FROM outcome_measures)"
        ).fetchone()
    return frozenset(relations), counts


def _capped(settings: Settings, cap: int) -> Settings:
    settings.processor = settings.processor.model_copy(update={"block_cap": cap})
    return settings


@pytest.mark.parametrize("cap", [100, 3], ids=["default cap", "keys beyond a cap of 3"])
def test_partition_does_not_depend_on_order(
    pseudonymised: list[bytes], isolated: Any, cap: int
) -> None:
    first = _capped(isolated(), cap)
    everything = asyncio.run(_resolve(first, pseudonymised, len(pseudonymised)))
    activity = _activity(first)
    assert len(everything) > 150
    assert any(len(p) > 1 for p in everything)
    orders = {
        "time order, batches of 40": (pseudonymised, 40),
        "reversed, batches of 25": (pseudonymised[::-1], 25),
    }
    for seed in (1, 2):
        rng = random.Random(seed)
        shuffled = pseudonymised[:]
        rng.shuffle(shuffled)
        replayed = shuffled + rng.sample(pseudonymised, len(pseudonymised) // 5)
        rng.shuffle(replayed)
        orders[f"shuffled {seed} with duplicates, batches of 33"] = (replayed, 33)
    for name, (messages, batch) in orders.items():
        settings = _capped(isolated(), cap)
        got = asyncio.run(_resolve(settings, messages, batch))
        assert got == everything, name
        assert _activity(settings) == activity, name
