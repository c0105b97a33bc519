"""End to end on this machine: raw event in Kafka -> linked in PostgreSQL, with both processors
as real processes on the running stack (Kafka and PostgreSQL on the same two cores).

1. Sustained throughput: a backlog of the borough's first events is published, the processors
   are started, and the rate is taken from their first commit until the resolver has caught up;
   the CPU time each process used meanwhile, per event, shows where the two cores went.
2. Latency at fixed offered rates: the borough's next events are published at 100, 1,000 and
   5,000 events/s for a fixed time each (waiting for the pipeline to drain in between);
   p50/p95/p99 come from the resolver's end-to-end latency histogram (raw produce -> committed
   in the graph) over that phase only, interpolated within buckets as Prometheus does.

``python -m bench.end_to_end [--backlog N] [--seconds S]``
"""

from __future__ import annotations

import argparse
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.common import Row, scratch, start_processor, stop
from bench.cpu import PARTS, CpuMeter
from core.settings import Settings
from earlylink.processors import remaining
from producers.pacing import paced
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator
from stream_processors.app import WEB_PORT_OFFSET

STAGES = {"pseudonymise": "raw", "resolve": "pseudonymised"}
REST = ("other", "idle")  # the machine's time outside the pipeline's processes


def _left(settings: Settings) -> int:
    return sum(remaining(settings, n, settings.kafka.topic(t)) for n, t in STAGES.items())


def _drain(settings: Settings, timeout_s: float, meter: CpuMeter | None = None) -> float:
    started = time.monotonic()
    while _left(settings) and time.monotonic() - started < timeout_s:
        if meter is not None:
            meter.sample()
        time.sleep(0.5)  # each probe starts two Kafka clients: often would skew the figures
    return time.monotonic() - started


def _buckets(settings: Settings) -> dict[float, float]:
    port = settings.processor.web_port + WEB_PORT_OFFSET["resolve"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    out: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "earlylink_end_to_end_latency_seconds":
            for s in family.samples:
                if s.name.endswith("_bucket") and s.labels.get("stage") == "resolve":
                    out[float(s.labels["le"])] = s.value
    return out


def quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float | None:
    """The q-quantile of the observations made between two scrapes of a histogram."""
    bounds = sorted(after)
    cumulative = [after[b] - before.get(b, 0.0) for b in bounds]
    total = cumulative[-1]
    if total <= 0:
        return None
    target, lower, below = q * total, 0.0, 0.0
    for bound, count in zip(bounds, cumulative, strict=True):
        if count >= target:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (target - below) / max(count - below, 1e-9)
        lower, below = bound, count
    return None


def throughput(settings: Settings, backlog: list) -> tuple[float, float, dict[str, float]]:  # type: ignore[type-arg]
    """(events/s end to end, seconds, CPU µs per event by process) for a published backlog."""
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in backlog:
            publisher.publish(event)
    total = _left(settings)
    while _left(settings) == total:
        time.sleep(0.02)
    meter = CpuMeter()
    meter.start()
    started = time.monotonic()
    _drain(settings, 3600, meter)
    took = time.monotonic() - started
    used = meter.stop()
    return len(backlog) / took, took, {p: used[p] / len(backlog) * 1e6 for p in (*PARTS, *REST)}


def fixed_rate(settings: Settings, events: list, rate: float) -> dict[str, float | None]:  # type: ignore[type-arg]
    before = _buckets(settings)
    started = time.monotonic()
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in paced(events, len(events), rate, f"{rate:,.0f}/s", show=False):
            publisher.publish(event)
    offered = len(events) / (time.monotonic() - started)
    lag_at_end = _left(settings)
    drained = _drain(settings, 900)
    after = _buckets(settings)
    result: dict[str, float | None] = {
        f"p{int(q * 100)}": quantile(q, before, after) for q in (0.5, 0.95, 0.99)
    }
    return {**result, "offered": offered, "lag_at_end": lag_at_end, "drain_s": drained}


def main() -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backlog", type=int, default=150_000, help="events for the throughput")
    parser.add_argument("--seconds", type=float, default=30.0, help="per offered rate")
    parser.add_argument("--rates", default="100,1000,5000")
    parser.add_argument(
        "--resolvers", type=int, default=1, help="resolver workers (they share the partitions)"
    )
    parser.add_argument(
        "--within", default=None, help="processors' batch_within_s (default: theirs)"
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    wanted = args.backlog + int(sum(rates) * args.seconds)
    events = BoroughGenerator(wanted // 36 + 100, 31).events()[:wanted]
    backlog, rest = events[: args.backlog], events[args.backlog :]
    rows = []
    with scratch(16092) as settings:
        extra = {"batch_within_s": args.within} if args.within else {}
        procs = [start_processor(settings, "pseudonymise", **extra)]
        procs += [
            start_processor(settings, "resolve", web_port=str(16100 + 10 * i), **extra)
            for i in range(1, args.resolvers)
        ]
        procs.append(start_processor(settings, "resolve", **extra))  # serves the latency
        try:
            rate, took, cpu = throughput(settings, backlog)
            for offered in rates:
                n = int(offered * args.seconds)
                chunk, rest = rest[:n], rest[n:]
                rows.append((offered, fixed_rate(settings, chunk, offered)))
        finally:
            for proc in procs:
                stop(proc)
    print("\n### End to end (raw in Kafka -> linked in PostgreSQL), both processors\n")
    print("| measure | value |\n| --- | --- |")
    print(
        f"| sustained throughput, {len(backlog):,}-event backlog |"
        f" {rate:,.0f} events/s ({took:.0f} s) |"
    )
    pipeline = sum(cpu[p] for p in PARTS)
    print(
        "| CPU per event meanwhile (µs) | "
        + ", ".join(f"{part} {cpu[part]:,.0f}" for part in PARTS)
        + f"; pipeline {pipeline:,.0f}; other processes {cpu['other']:,.0f}, idle"
        f" {cpu['idle']:,.0f} (two cores give {2e6 / rate:,.0f} per event) |"
    )
    print("\n| offered events/s | achieved | p50 s | p95 s | p99 s | lag at end | drained in s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for offered, r in rows:
        cells = [f"{r[k]:.3f}" if r[k] is not None else "-" for k in ("p50", "p95", "p99")]
        print(
            f"| {offered:,.0f} | {r['offered']:,.0f} | {' | '.join(cells)} |"
            f" {r['lag_at_end']:,.0f} | {r['drain_s']:.1f} |"
        )
    return summary_rows(rate, pipeline, cpu["idle"], rows)


def summary_rows(
    rate: float, pipeline: float, idle: float, rates: list[tuple[float, dict[str, Any]]]
) -> list[Row]:
    def seconds(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else "-"

    out: list[Row] = [
        ("end to end, sustained (backlog drained)", f"{rate:,.0f} events/s", ">= 5,000 events/s"),
        (
            "CPU per event, pipeline (idle)",
            f"{pipeline:,.0f} µs ({idle:,.0f} µs)",
            "",
        ),
    ]
    for offered, r in rates:
        saturated = r["lag_at_end"] > offered  # more than a second's worth behind at the end
        figure = f"{seconds(r['p50'])} / {seconds(r['p95'])} / {seconds(r['p99'])} s"
        if saturated:
            figure += (
                f" (saturated: {r['lag_at_end']:,.0f} behind, drained in {r['drain_s']:.0f} s)"
            )
        target = "p99 <= 1 s" if offered == 1000 else ""
        out.append((f"latency p50 / p95 / p99 at {offered:,.0f} events/s", figure, target))
    return out


if __name__ == "__main__":
    main()
