"""How each stage's throughput grows with workers (one consumer group, the topic's partitions
shared among them), on this machine: Kafka, PostgreSQL and the workers on the same cores.

For each worker count a fresh backlog is published, then the pseudonymisers alone drain the raw
topic, then the resolvers alone drain the pseudonymised topic; each stage's rate is taken from
its first commit to its last, so the stages are measured one at a time.

``python -m bench.workers [--events N] [--workers 1,2]``
"""

from __future__ import annotations

import argparse

from bench.common import drain_rate, scratch
from core.settings import Settings
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator

STAGES = (("pseudonymise", "raw"), ("resolve", "pseudonymised"))
BASE_PORT = 16200


def measure(events: list, workers: int) -> dict[str, float]:  # type: ignore[type-arg]
    with scratch(BASE_PORT) as settings:
        with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
            for event in events:
                publisher.publish(event)
        return {
            stage: drain_rate(settings, stage, topic, workers, BASE_PORT) for stage, topic in STAGES
        }


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
