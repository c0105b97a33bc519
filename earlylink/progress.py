"""How far a consumer group has got: committed offsets (from PostgreSQL) against the topic's end."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from earlylink.settings import KafkaSettings


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


def end_offsets(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    """High watermark of every partition of ``topic``."""
    consumer = Consumer(
        {
            **kafka.client_config(),
            "group.id": "earlylink-watermarks",
            "enable.auto.commit": False,
            "log_level": 0,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        ends: dict[int, int] = {}
        for partition in partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            ends[partition] = high
        return ends
    finally:
        consumer.close()


def lag_of(committed: dict[int, int], ends: dict[int, int], topic: str) -> list[PartitionLag]:
    return [PartitionLag(topic, p, committed.get(p, 0), end) for p, end in sorted(ends.items())]
