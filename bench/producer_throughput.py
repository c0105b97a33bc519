"""Producer throughput: the synthetic borough published to the real local Kafka.

Prints a markdown table: generation time, encode-only rate, and publish rate (acks=all,
idempotent) for a borough of the given size.
"""

from __future__ import annotations

import argparse
import time

from core.settings import KafkaSettings, Settings
from earlylink.topics import TopicSpec, ensure_topics
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.wire import encode


def run(families: int, seed: int) -> list[tuple[str, str]]:
    settings = Settings()
    topic = f"bench.producer.{int(time.time())}"
    kafka = KafkaSettings(**settings.kafka.model_dump())
    ensure_topics(kafka, [TopicSpec(topic, 3_600_000, "benchmark")])

    started = time.perf_counter()
    events = BoroughGenerator(families, seed).events()
    generated = time.perf_counter() - started

    contracts = catalogue()
    started = time.perf_counter()
    for event in events:
        encode(contracts.get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())
    encoded = time.perf_counter() - started

    started = time.perf_counter()
    with Publisher(kafka, topic) as publisher:
        for event in events:
            publisher.publish(event)
    published = time.perf_counter() - started
    n = len(events)
    return [
        ("families", f"{families:,}"),
        ("events", f"{n:,}"),
        ("generate (s)", f"{generated:.1f}"),
        ("encode only (events/s)", f"{n / encoded:,.0f}"),
        ("publish, acks=all, idempotent (events/s)", f"{n / published:,.0f}"),
        ("delivered / failed", f"{publisher.report.delivered:,} / {publisher.report.failed}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = run(args.families, args.seed)
    print("\n### Producer throughput (synthetic borough)\n")
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
