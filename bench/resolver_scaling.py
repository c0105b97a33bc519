"""Resolver throughput and per-batch latency as the identity graph grows.

Person records of synthetic boroughs (chunks of 5,000 families with their own record ids and
their own postcode area, as if more boroughs joined) are pseudonymised in process and resolved
straight into a fresh PostgreSQL database through the same code the agent runs (Kafka left out,
to isolate the resolver). Prints records/s and batch latency per band of store size: the cost
per record should stay flat as the store grows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from collections.abc import Iterator

from core.settings import DatabaseSettings, Settings
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import PersonRecord, RelatedRecord
from schemas.wire import encode
from sink import admin
from sink.connection import connect
from sink.migrate import migrate
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver


def pseudonymised_chunks(families: int) -> Iterator[list[bytes]]:
    ring = Keyring({1: b"b" * 32}, 1)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring))
    now = dt.datetime.now(dt.UTC)
    for chunk in range(10_000):
        out = []
        for event in BoroughGenerator(families, 100 + chunk).events():
            if not isinstance(event, PersonRecord):
                continue
            event = event.model_copy(
                update={
                    "record_id": f"{chunk}-{event.record_id}",
                    "postcode": _elsewhere(event.postcode, chunk),
                    "related": [
                        RelatedRecord(
                            relationship=r.relationship, record_id=f"{chunk}-{r.record_id}"
                        )
                        for r in event.related
                    ],
                }
            )
            data = encode(catalogue().latest("PersonRecord"), event.to_avro())
            result = stage.process(RawMessage("raw", 0, 0, data), now)
            if result.value is not None:
                out.append(result.value)
        yield out


def _elsewhere(postcode: str | None, chunk: int) -> str | None:
    """Move a borough's postcode to another area per chunk (SE11 5QY -> AB11 5QY, ...), so the
    store grows like more boroughs joining rather than one borough getting denser."""
    if not postcode or chunk == 0:
        return postcode
    letters = "ABCDEFGHJKLMNOPRSTUWYZ"
    area = letters[chunk // len(letters) % len(letters)] + letters[chunk % len(letters)]
    rest = postcode.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return area + rest


async def run(target: int, batch: int, families: int) -> list[tuple[int, float, int]]:
    base = Settings()
    name = f"bench_resolve_{uuid.uuid4().hex[:6]}"
    admin.create_database(base.database_dsn, name)
    settings = Settings(database=DatabaseSettings(name=name))
    migrate(settings.database_dsn)
    resolver = Resolver(settings, catalogue(), load_model())
    samples: list[tuple[int, float, int]] = []  # (store size before, seconds, records)
    done = 0
    async with await connect(settings.database_dsn) as conn:
        for messages in pseudonymised_chunks(families):
            for start in range(0, len(messages), batch):
                chunk = [
                    RawMessage("p", 0, done + i, v)
                    for i, v in enumerate(messages[start : start + batch])
                ]
                began = time.perf_counter()
                async with conn.transaction():
                    await resolver.apply(conn, chunk)
                samples.append((done, time.perf_counter() - began, len(chunk)))
                done += len(chunk)
                if done >= target:
                    return samples
    return samples


def drop_bench_databases() -> None:
    admin.drop_databases_like(Settings().database_dsn, "bench_resolve_")


def bands(samples: list[tuple[int, float, int]], edges: list[int]) -> list[str]:
    rows = []
    for low, high in zip([0, *edges], edges, strict=False):
        part = [(s, n) for size, s, n in samples if low <= size < high]
        if not part:
            continue
        seconds = [s for s, _ in part]
        records = sum(n for _, n in part)
        rows.append(
            f"| {low:,}–{high:,} | {records / sum(seconds):,.0f} | "
            f"{statistics.median(seconds) * 1000:,.0f} | "
            f"{sorted(seconds)[int(len(seconds) * 0.95) - 1] * 1000:,.0f} | "
            f"{sum(seconds) / records * 1e6:,.0f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--families-per-chunk", type=int, default=5_000)
    args = parser.parse_args()
    samples = asyncio.run(run(args.records, args.batch, args.families_per_chunk))
    drop_bench_databases()
    edges = [
        e
        for e in (10_000, 30_000, 60_000, 100_000, 300_000, 600_000, 1_000_000)
        if e <= args.records
    ]
    edges = [*edges, args.records + 1] if not edges or edges[-1] < args.records else edges
    print(
        f"\n### Resolver scaling ({sum(n for *_, n in samples):,} person records, "
        f"batches of {args.batch})\n"
    )
    print("| store size (records) | records/s | batch p50 (ms) | batch p95 (ms) | µs/record |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(bands(samples, edges)))


if __name__ == "__main__":
    main()
