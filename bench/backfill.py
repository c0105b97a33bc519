"""Backfill through the stream: a long history (default 1,000,000 events of one large synthetic
borough, all event types) is published to the raw topic first, then both processors are started
and load it as they would a real history. Prints total time, events/s, and the cost per event in
bands of progress, so the start and the end can be compared (it should stay flat).

``python -m bench.backfill [--events N] [--every S]``
"""

from __future__ import annotations

import argparse
import itertools
import time

from bench.common import Row, scratch, start_processor, stop
from core.settings import Settings
from earlylink.processors import remaining
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator
from schemas.models import PersonRecord

STAGES = {"pseudonymise": "raw", "resolve": "pseudonymised"}


def _left(settings: Settings) -> tuple[int, int]:
    """(raw events not yet pseudonymised, pseudonymised events not yet resolved)."""
    raw_left = remaining(settings, "pseudonymise", settings.kafka.topic("raw"))
    resolve_left = remaining(settings, "resolve", settings.kafka.topic("pseudonymised"))
    return raw_left, resolve_left


def backfill(events: list, every_s: float) -> tuple[list[tuple[float, int]], float]:  # type: ignore[type-arg]
    """Samples (seconds, events fully resolved) and the total seconds."""
    with scratch(16088) as settings:
        with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
            for event in events:
                publisher.publish(event)
        total = len(events)
        procs = {n: start_processor(settings, n) for n in STAGES}
        try:
            while _left(settings)[0] == total:
                time.sleep(0.05)
            started = time.monotonic()
            samples = [(0.0, 0)]
            while True:
                time.sleep(every_s)
                raw_left, resolve_left = _left(settings)
                # an event is through when both stages have it: approximate by the raw side
                # minus what the resolver still has queued
                through = total - raw_left - resolve_left
                samples.append((time.monotonic() - started, through))
                print(f"  {samples[-1][0]:6.0f} s  {through:>9,} through", flush=True)
                if raw_left == 0 and resolve_left == 0:
                    break
            return samples, time.monotonic() - started
        finally:
            for proc in procs.values():
                stop(proc)


def bands(samples: list[tuple[float, int]], total: int) -> list[tuple[str, float]]:
    """(band of progress, events/s within it)."""
    rows = []
    edges = [0, total // 10, total // 4, total // 2, 3 * total // 4, 9 * total // 10, total]
    for low, high in itertools.pairwise(edges):
        inside = [s for s in samples if low <= s[1] <= high]
        if len(inside) < 2:
            continue
        (t0, n0), (t1, n1) = inside[0], inside[-1]
        if n1 > n0:
            rows.append((f"{low:,}–{high:,}", (n1 - n0) / (t1 - t0)))
    return rows


def main() -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--every", type=float, default=10.0)
    args = parser.parse_args()
    events = BoroughGenerator(args.events // 36 + 200, 41).events()[: args.events]
    persons = sum(isinstance(e, PersonRecord) for e in events)
    samples, took = backfill(events, args.every)
    print(
        f"\n### Backfill through the stream: {len(events):,} events"
        f" ({persons:,} person records) in {took:,.0f} s = {len(events) / took:,.0f} events/s\n"
    )
    print("| events through (band) | events/s | µs/event |\n| --- | --- | --- |")
    rates = bands(samples, len(events))
    for band, rate in rates:
        print(f"| {band} | {rate:,.0f} | {1e6 / rate:,.0f} |")
    per_event = " → ".join(f"{1e6 / rate:,.0f}" for _, rate in rates)
    return [
        (
            f"backfill of {len(events):,} events through the stream",
            f"{took:,.0f} s ({len(events) / took:,.0f} events/s)",
            "<= 600 s",
        ),
        ("backfill µs/event, band by band (first to last)", per_event, "flat"),
    ]


if __name__ == "__main__":
    main()
