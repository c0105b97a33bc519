"""earlylink's Kafka topics and their creation.

One raw topic carries every event type of every source (each message names its own schema), keyed
by source system + source record id so that all events about one record stay in order.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._metadata import TopicMetadata
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from core.errors import ConfigurationError, StackError
from core.kafka import DEAD_LETTER_MAX_BYTES
from core.settings import KafkaSettings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    retention_ms: int
    doc: str
    max_message_bytes: int | None = None  # None: the broker's default (about 1 MB)

    def config(self) -> dict[str, str]:
        config = {"retention.ms": str(self.retention_ms)}
        if self.max_message_bytes is not None:
            config["max.message.bytes"] = str(self.max_message_bytes)
        return config


HOUR_MS = 3_600_000


def days_ms(days: float) -> int:
    return int(days * 24 * HOUR_MS)


def topic_specs(kafka: KafkaSettings) -> list[TopicSpec]:
    """Every topic earlylink owns, with the retention its settings give (docs/operations.md:
    how long a trace of a withdrawn person can remain where)."""
    return [
        TopicSpec(kafka.topic("raw"), days_ms(kafka.raw_retention_days), "service events (PII)"),
        TopicSpec(
            kafka.topic("pseudonymised"),
            days_ms(kafka.pseudonymised_retention_days),
            "tokens only, no PII",
        ),
        TopicSpec(
            kafka.topic("deadletter"),
            days_ms(kafka.deadletter_retention_days),
            "unusable events (sealed) + reason",
            DEAD_LETTER_MAX_BYTES,
        ),
        TopicSpec(
            kafka.topic("identity-changes"),
            days_ms(kafka.pseudonymised_retention_days),
            "person merges/splits",
        ),
    ]


OWN_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def own_topic_spec(kafka: KafkaSettings, source: str) -> TopicSpec:
    """The raw topic of a source bound to one (``earlylink sources add --own-topic``)."""
    if not OWN_TOPIC_NAME.fullmatch(source):
        raise ConfigurationError(
            f"{source!r} cannot name a Kafka topic: letters, digits, '.', '_' and '-' only"
        )
    return TopicSpec(kafka.topic(f"raw.{source}"), 7 * 24 * HOUR_MS, f"{source}'s raw events (PII)")


def ensure_topics(kafka: KafkaSettings, specs: list[TopicSpec] | None = None) -> list[str]:
    """Create missing topics, and give existing ones a message size they lack; return the
    names created."""
    admin = AdminClient(kafka.client_config())
    existing = set(admin.list_topics(timeout=10).topics)
    specs = specs or topic_specs(kafka)
    _ensure_configs(admin, [s for s in specs if s.name in existing])
    wanted = [s for s in specs if s.name not in existing]
    if not wanted:
        return []
    futures = admin.create_topics(
        [
            NewTopic(
                s.name,
                num_partitions=kafka.partitions,
                replication_factor=1,
                config=s.config(),
            )
            for s in wanted
        ]
    )
    for name, future in futures.items():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise StackError(f"creating topic {name} failed: {exc}") from exc
    created = [s.name for s in wanted]
    wait_for_leaders(admin, created, kafka.partitions)
    return created


def _ensure_configs(admin: AdminClient, specs: list[TopicSpec]) -> None:
    """Existing topics get their spec's retention and size (an idempotent set): a retention
    shortened in the settings applies to the topics already there."""
    if not specs:
        return
    resources = [
        ConfigResource(
            ResourceType.TOPIC,
            s.name,
            incremental_configs=[
                ConfigEntry(name, value, incremental_operation=AlterConfigOpType.SET)
                for name, value in s.config().items()
            ],
        )
        for s in specs
    ]
    for resource, future in admin.incremental_alter_configs(resources).items():
        try:
            future.result(timeout=30)
        except KafkaException as exc:
            raise StackError(f"setting the retention of {resource.name} failed: {exc}") from exc


def wait_for_leaders(
    admin: AdminClient, names: list[str], partitions: int, patience_s: float = 60
) -> None:
    """Wait until the broker's metadata shows every partition of ``names`` with a leader.

    A creation is acknowledged once the controller has it, before every broker serves it;
    a consumer that asks in between is told the topic does not exist and (aiokafka) only asks
    again when its metadata ages out, minutes later."""
    deadline = time.monotonic() + patience_s
    pending = list(names)
    while pending:
        topics = admin.list_topics(timeout=10).topics
        pending = [name for name in names if not _served(topics.get(name), partitions)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"topics {', '.join(pending)} created but without partition leaders "
                f"after {patience_s:.0f}s; see `earlylink stack logs kafka`"
            )
        time.sleep(0.2)


def _served(topic: TopicMetadata | None, partitions: int) -> bool:
    if topic is None or topic.error is not None or len(topic.partitions) < partitions:
        return False
    return all(p.leader >= 0 and p.error is None for p in topic.partitions.values())
