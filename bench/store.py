"""A resolved borough straight into a store, both stages run in this process (no Kafka): the
ledger rows the pseudonymiser would write, then the identity graph. For benchmarks and tests of
what reads the store (analytics, the report)."""

from __future__ import annotations

import asyncio
import datetime as dt

from core.settings import Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.wire import encode
from sink.connection import connect
from sink.ledger import write_ledger
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver

DAY_MS = 86_400_000


def load_borough(
    settings: Settings, families: int, seed: int = 23, keyring: Keyring | None = None
) -> int:
    """Pseudonymise and resolve a borough of ``families`` into ``settings``' database; each
    event is stamped as received 0-8 days after its event time (so timeliness varies).
    Returns how many events."""
    ring = keyring or Keyring({1: b"r" * 32}, 1)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring))
    now = dt.datetime.now(dt.UTC)
    entries, messages = [], []
    for i, event in enumerate(BoroughGenerator(families, seed).events()):
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)
        stamp = int(event.envelope.event_time.timestamp() * 1000) + DAY_MS * (i % 9)
        raw = RawMessage("raw", 0, i, encode(version, event.to_avro()), stamp)
        result = stage.process(raw, now)
        entries.append((result.entry, stamp))
        if result.value is not None:
            messages.append(result.value)
    asyncio.run(_write(settings, entries, messages))
    return len(entries)


async def _write(settings: Settings, entries: list, messages: list[bytes]) -> None:  # type: ignore[type-arg]
    resolver = Resolver(settings, catalogue(), load_model())
    async with await connect(settings.database_dsn) as conn:
        for start in range(0, len(entries), 5000):
            await write_ledger(conn, "borough-load", entries[start : start + 5000], {})
        for start in range(0, len(messages), 2000):
            chunk = messages[start : start + 2000]
            async with conn.transaction():
                await resolver.apply(
                    conn, [RawMessage("p", 0, start + i, v) for i, v in enumerate(chunk)]
                )
