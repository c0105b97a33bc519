"""How far a consumer group has got: committed offsets (from PostgreSQL) against the topic's end."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from core.settings import KafkaSettings

#: Errors a broker gives while it restarts or elects leaders: worth waiting out.
TRANSIENT = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
        KafkaError._ALL_BROKERS_DOWN,
    }
)


def transient(exc: KafkaException) -> bool:
    """Whether a Kafka error is one a restarting broker gives (retry it)."""
    error = exc.args[0] if exc.args else None
    if not isinstance(error, KafkaError):
        return False
    return error.retriable() or error.code() in TRANSIENT


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


def probe_consumer(kafka: KafkaSettings, group: str = "earlylink-watermarks") -> Consumer:
    """A quiet consumer that only looks (watermarks, one message): never commits."""
    return Consumer(
        {**kafka.client_config(), "group.id": group, "enable.auto.commit": False, "log_level": 0}
    )


def end_offsets(kafka: KafkaSettings, topic: str) -> dict[int, int]:
    """High watermark of every partition of ``topic``."""
    consumer = probe_consumer(kafka)
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        ends: dict[int, int] = {}
        for partition in partitions:
            ends[partition] = high_watermark(consumer, topic, partition)
        return ends
    finally:
        consumer.close()


def high_watermark(consumer: Consumer, topic: str, partition: int, patience_s: float = 60) -> int:
    """End offset of one partition, waiting out a leader election (a broker just restarted)."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            return int(high)
        except KafkaException as exc:
            if not transient(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def lag_of(committed: dict[int, int], ends: dict[int, int], topic: str) -> list[PartitionLag]:
    return [PartitionLag(topic, p, committed.get(p, 0), end) for p, end in sorted(ends.items())]
