"""The machine's ceilings, measured the same way the pipeline uses the services: raw Kafka
produce and consume with confluent-kafka (idempotent, acks=all, event-sized messages), and raw
PostgreSQL COPY into an indexed table. Each stage's figure can be read as a share of these.

``python -m bench.ceilings [--messages N] [--rows N]``
"""

from __future__ import annotations

import argparse
import os
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from bench.common import Row, scratch
from core.settings import Settings
from sink.bulk import copy_ceiling

EVENT_BYTES = 330  # about the mean size of a raw synthetic event


def kafka_rates(settings: Settings, messages: int) -> tuple[float, float]:
    topic = settings.kafka.topic("raw")
    producer = Producer(
        {
            **settings.kafka.client_config(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
        }
    )
    payloads = [os.urandom(EVENT_BYTES // 2).hex().encode()[:EVENT_BYTES] for _ in range(1000)]
    started = time.perf_counter()
    for i in range(messages):
        while True:
            try:
                producer.produce(topic, payloads[i % 1000], key=str(i % 9973).encode())
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0
    produce = messages / (time.perf_counter() - started)
    consumer = Consumer(
        {**settings.kafka.client_config(), "group.id": "ceiling", "enable.auto.commit": False}
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    started = time.perf_counter()
    seen = 0
    while seen < messages:
        seen += sum(1 for m in consumer.consume(10_000, timeout=5) if m.error() is None)
    consume = messages / (time.perf_counter() - started)
    consumer.close()
    return produce, consume


def copy_rate(settings: Settings, rows: int) -> float:
    return copy_ceiling(settings.database_dsn, rows, os.urandom(EVENT_BYTES))


def main() -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    with scratch() as settings:
        produce, consume = kafka_rates(settings, args.messages)
        copy = copy_rate(settings, args.rows)
    print(f"\n### Ceilings of this machine ({EVENT_BYTES}-byte messages and rows)\n")
    print("| ceiling | per second |\n| --- | --- |")
    print(f"| Kafka produce, confluent-kafka, acks=all ({args.messages:,}) | {produce:,.0f} |")
    print(f"| Kafka consume, confluent-kafka ({args.messages:,}) | {consume:,.0f} |")
    print(f"| PostgreSQL COPY into a keyed table ({args.rows:,} rows) | {copy:,.0f} |")
    return [
        (
            "ceiling: Kafka produce / consume (confluent-kafka)",
            f"{produce:,.0f} / {consume:,.0f} msg/s",
            "",
        ),
        ("ceiling: PostgreSQL COPY", f"{copy:,.0f} rows/s", ""),
    ]


if __name__ == "__main__":
    main()
