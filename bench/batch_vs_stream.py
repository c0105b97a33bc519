"""The batch way beside the stream: re-link every record of a borough from scratch in one
batch (one transaction, the same model and code), against the stream absorbing the borough's
last quarter incrementally onto the graph of everything before it (batches of 500, as the agent
does). Both run the resolver in process on pseudonymised events (Kafka left out: it is the same
on both sides and ~1 % of the cost, see bench.ceilings).

``python -m bench.batch_vs_stream [--families N]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import uuid

from bench.common import Row
from core.settings import DatabaseSettings, Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.wire import encode
from sink import admin, linked
from sink.connection import connect
from sink.migrate import migrate
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver

QUARTER = dt.timedelta(days=91)


def pseudonymised(families: int) -> tuple[list[bytes], list[bytes]]:
    """(history, last quarter) of a borough's pseudonymised events, split by event time."""
    ring = Keyring({1: b"q" * 32}, 1)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring))
    now = dt.datetime.now(dt.UTC)
    events = BoroughGenerator(families, 61).events()
    cut = max(e.envelope.event_time for e in events) - QUARTER
    history: list[bytes] = []
    quarter: list[bytes] = []
    for i, event in enumerate(events):
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)
        result = stage.process(RawMessage("raw", 0, i, encode(version, event.to_avro())), now)
        if result.value is not None:
            (quarter if event.envelope.event_time > cut else history).append(result.value)
    return history, quarter


async def resolve(settings: Settings, messages: list[bytes], batch: int, offset: int = 0) -> float:
    """Seconds to resolve ``messages`` in transactions of ``batch``."""
    resolver = Resolver(settings, catalogue(), load_model())
    async with await connect(settings.database_dsn) as conn:
        started = time.perf_counter()
        for start in range(0, len(messages), batch):
            chunk = [
                RawMessage("p", 0, offset + start + i, v)
                for i, v in enumerate(messages[start : start + batch])
            ]
            async with conn.transaction():
                await resolver.apply(conn, chunk)
        return time.perf_counter() - started


def partition(settings: Settings) -> frozenset[frozenset[str]]:
    return linked.partition(settings.database_dsn)


def fresh_database() -> tuple[Settings, str]:
    base = Settings()
    name = f"bench_resolve_{uuid.uuid4().hex[:6]}"  # dropped with the resolver bench's
    admin.create_database(base.database_dsn, name)
    settings = Settings(database=DatabaseSettings(name=name))
    migrate(settings.database_dsn)
    return settings, name


def main() -> list[Row]:
    from bench.resolver_scaling import drop_bench_databases

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=5_000)
    args = parser.parse_args()
    history, quarter = pseudonymised(args.families)
    everything = history + quarter
    stream_db, _ = fresh_database()
    history_s = asyncio.run(resolve(stream_db, history, 500))
    quarter_s = asyncio.run(resolve(stream_db, quarter, 500, offset=len(history)))
    batch_db, _ = fresh_database()
    batch_s = asyncio.run(resolve(batch_db, everything, len(everything)))
    same = partition(stream_db) == partition(batch_db)
    persons = len(partition(batch_db))
    drop_bench_databases()
    print(
        f"\n### The batch way beside the stream ({args.families:,} families,"
        f" {len(everything):,} pseudonymised events; {persons:,} persons; both ways give"
        f" {'the same' if same else 'DIFFERENT'} persons)\n"
    )
    print("| way | events | seconds | events/s |\n| --- | --- | --- | --- |")
    print(
        f"| batch: re-link everything from scratch, one transaction | {len(everything):,} |"
        f" {batch_s:,.1f} | {len(everything) / batch_s:,.0f} |"
    )
    print(
        f"| stream: the last quarter, incrementally (batches of 500) | {len(quarter):,} |"
        f" {quarter_s:,.1f} | {len(quarter) / quarter_s:,.0f} |"
    )
    print(
        f"| (stream: the history before it, batches of 500) | {len(history):,} |"
        f" {history_s:,.1f} | {len(history) / history_s:,.0f} |"
    )
    return [
        (f"batch way: re-link {len(everything):,} events from scratch", f"{batch_s:,.1f} s", ""),
        (
            f"stream: absorb the last quarter ({len(quarter):,} events)",
            f"{quarter_s:,.1f} s ({'same' if same else 'DIFFERENT'} persons as the batch way)",
            "",
        ),
    ]


if __name__ == "__main__":
    main()
