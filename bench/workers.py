"""How each stage's throughput grows with workers (one consumer group, the topic's partitions
shared among them), on this machine: Kafka, PostgreSQL and the workers on the same cores.

For each worker count a fresh backlog is published, then the pseudonymisers alone drain the raw
topic, then the resolvers alone drain the pseudonymised topic; each stage's rate is taken from
its first commit to its last, so the stages are measured one at a time.

``python -m bench.workers [--events N] [--workers 1,2]``
"""

from __future__ import annotations

import argparse
import subprocess
import time

from bench.common import scratch, start_processor, stop
from earlylink.processors import remaining
from earlylink.settings import Settings
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator

STAGES = (("pseudonymise", "raw"), ("resolve", "pseudonymised"))
BASE_PORT = 16200


def drain_rate(settings: Settings, stage: str, topic: str, workers: int) -> float:
    """events/s for ``workers`` processes of ``stage`` draining ``topic``'s backlog."""
    name = settings.kafka.topic(topic)
    total = remaining(settings, stage, name)
    procs: list[subprocess.Popen[bytes]] = [
        start_processor(settings, stage, web_port=str(BASE_PORT + 10 * i)) for i in range(workers)
    ]
    try:
        while remaining(settings, stage, name) == total:
            time.sleep(0.05)
        started = time.monotonic()
        while remaining(settings, stage, name) > 0:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a {stage} worker exited while draining")
            time.sleep(0.1)
        return total / (time.monotonic() - started)
    finally:
        for proc in procs:
            stop(proc)


def measure(events: list, workers: int) -> dict[str, float]:  # type: ignore[type-arg]
    with scratch(BASE_PORT) as settings:
        with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
            for event in events:
                publisher.publish(event)
        return {stage: drain_rate(settings, stage, topic, workers) for stage, topic in STAGES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    events = BoroughGenerator(args.events // 36 + 100, 23).events()[: args.events]
    partitions = Settings().kafka.partitions
    rows = [(w, measure(events, w)) for w in counts]
    print(
        f"\n### Workers per stage ({len(events):,}-event backlog, {partitions} partitions,"
        " each stage alone)\n"
    )
    print("| workers | pseudonymise events/s | resolve events/s |\n| --- | --- | --- |")
    for w, rates in rows:
        print(f"| {w} | {rates['pseudonymise']:,.0f} | {rates['resolve']:,.0f} |")


if __name__ == "__main__":
    main()
