"""How far a consumer group has got: committed offsets (in PostgreSQL, saved with each batch)
against the topic's high watermark, per partition, and in seconds (the age of the oldest
message not yet committed). One type, ``PartitionLag``, for the processors' waits, the
metrics, the status page and ``earlylink lag``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from core.settings import KafkaSettings, Settings
from sink.offsets import committed_offsets

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
    """A consumer's position on one partition against its end; from ``lag_rows`` also the
    stage's group and the age of the first message not yet committed."""

    topic: str
    partition: int
    committed: int
    end: int
    group: str = ""
    lag_seconds: float | None = None

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


STAGES = (("pseudonymise", "raw"), ("resolve", "pseudonymised"))


def lag_rows(settings: Settings) -> list[PartitionLag]:
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
                rows.append(PartitionLag(topic, partition, committed, end, group, age))
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
