"""Soak: a sustained offered rate for a fixed time through both processors (real processes on
the running stack), sampling their memory, the lag and the end-to-end latency, to show memory
does not grow without bound. Not part of CI: ``python -m bench.soak --rate 300 --minutes 10``.

Prints a markdown table of the samples and a summary row.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

import psutil

from bench.common import scratch, start_processor, stop
from core.settings import Settings
from earlylink.processors import remaining, stage_status
from producers.pacing import paced
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator


@dataclass
class Sample:
    at_s: float
    published: int
    rss_mib: dict[str, float]
    lag: dict[str, int]
    p99_s: float | None


def _rss(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / 2**20


def _publish(settings: Settings, events: list, rate: float, sent: list[int]) -> None:  # type: ignore[type-arg]
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in paced(events, len(events), rate, "soak", show=False):
            publisher.publish(event)
            sent[0] += 1


def soak(
    rate: float, minutes: float, every_s: float, record_cache: int | None
) -> tuple[list[Sample], float]:
    """The samples, and the seconds from the first event published to the last committed."""
    families = int(rate * minutes * 60 / 37) + 50  # the borough yields ~38 events per family
    events = BoroughGenerator(families, 23).events()[: int(rate * minutes * 60)]
    with scratch(16094) as settings:
        extra = {"record_cache": str(record_cache)} if record_cache else {}
        procs = {n: start_processor(settings, n, **extra) for n in ("pseudonymise", "resolve")}
        watched = {n: psutil.Process(p.pid) for n, p in procs.items()}
        topics = {"pseudonymise": "raw", "resolve": "pseudonymised"}
        time.sleep(8)  # workers join their groups
        sent = [0]
        publisher = threading.Thread(target=_publish, args=(settings, events, rate, sent))
        started = time.monotonic()
        publisher.start()
        samples: list[Sample] = []
        while publisher.is_alive() or any(
            remaining(settings, n, settings.kafka.topic(t)) for n, t in topics.items()
        ):
            time.sleep(every_s)
            status = stage_status(settings, "resolve") or {}
            samples.append(
                Sample(
                    time.monotonic() - started,
                    sent[0],
                    {n: _rss(p) for n, p in watched.items()},
                    {n: remaining(settings, n, settings.kafka.topic(t)) for n, t in topics.items()},
                    (status.get("latency_s") or {}).get("p99"),
                )
            )
        took = time.monotonic() - started
        for proc in procs.values():
            stop(proc)
    return samples, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=300.0, help="offered events/s")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument(
        "--record-cache", type=int, default=None, help="resolver's record cache (default: its)"
    )
    args = parser.parse_args()
    samples, took = soak(args.rate, args.minutes, args.every, args.record_cache)
    cache = f", resolver record cache {args.record_cache:,}" if args.record_cache else ""
    print(f"\n### Soak: {args.rate:,.0f} events/s offered for {args.minutes:g} min{cache}\n")
    print("| t (s) | published | pseudonymise RSS MiB | resolve RSS MiB | lag p / r | p99 s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for s in samples:
        p99 = f"{s.p99_s:.2f}" if s.p99_s is not None else "-"
        print(
            f"| {s.at_s:.0f} | {s.published:,} | {s.rss_mib['pseudonymise']:.0f} |"
            f" {s.rss_mib['resolve']:.0f} | {s.lag['pseudonymise']:,} / {s.lag['resolve']:,} |"
            f" {p99} |"
        )
    first, last = samples[0], samples[-1]
    worst = max((s.p99_s for s in samples if s.p99_s is not None), default=None)
    print(
        f"\n{last.published:,} events in {took:.0f}s ({last.published / took:,.0f} events/s"
        f" published to committed); memory pseudonymise {first.rss_mib['pseudonymise']:.0f} -> "
        f"{last.rss_mib['pseudonymise']:.0f} MiB, resolve {first.rss_mib['resolve']:.0f} -> "
        f"{last.rss_mib['resolve']:.0f} MiB; max lag "
        f"{max(sum(s.lag.values()) for s in samples):,}; worst sampled p99 "
        f"{worst if worst is not None else '-'} s"
    )


if __name__ == "__main__":
    main()
