"""Operations figures: consumer lag per group, topic and partition (committed offset in
PostgreSQL against Kafka's high watermark) and lag in seconds (age of the oldest message not
yet committed)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from core.settings import Settings
from sink.offsets import committed_offsets
from stream_processors.progress import high_watermark, probe_consumer

STAGES = (("pseudonymise", "raw"), ("resolve", "pseudonymised"))


@dataclass(frozen=True)
class LagRow:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag_seconds: float | None

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


def lag_rows(settings: Settings) -> list[LagRow]:
    """Lag of every earlylink stage on every partition of its input topic."""
    consumer = probe_consumer(settings.kafka, "earlylink-lag-probe")
    rows = []
    try:
        for stage, topic_name in STAGES:
            topic = settings.kafka.topic(topic_name)
            group = settings.kafka.group(stage)
            done = committed_offsets(settings.database_dsn, group, topic)
            metadata = consumer.list_topics(topic, timeout=10)
            for partition in sorted(metadata.topics[topic].partitions):
                end = high_watermark(consumer, topic, partition)
                committed = done.get(partition, 0)
                age = _age(consumer, topic, partition, committed) if committed < end else 0.0
                rows.append(LagRow(group, topic, partition, committed, end, age))
    finally:
        consumer.close()
    return rows


def _age(consumer: Consumer, topic: str, partition: int, offset: int) -> float | None:
    """Seconds since the first uncommitted message was produced."""
    consumer.assign([TopicPartition(topic, partition, offset)])
    message = consumer.poll(5.0)
    if message is None or message.error():
        return None
    kind, stamp = message.timestamp()
    return max(time.time() - stamp / 1000, 0.0) if kind and stamp > 0 else None
