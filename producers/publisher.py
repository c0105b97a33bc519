"""Publishing events to Kafka with confluent-kafka: idempotent, acks=all, every delivery reported.

Each event is encoded with the contract version its envelope names (framed as its codec says:
the Confluent wire format through the schema registry by default) and keyed by
``source_system|record_id``, so every event about one record lands on one partition in order.
A failed delivery is counted and described (topic, partition, error; never the payload); the
caller decides what to do, and ``close`` raises if anything failed and nobody looked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from core.errors import DeliveryError
from core.kafka import PRODUCER_DEFAULTS
from core.settings import KafkaSettings
from schemas.catalogue import Catalogue
from schemas.models import Event
from schemas.registry import codec_for
from schemas.wire import Codec

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What Kafka acknowledged so far."""

    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.delivered += 1
            return
        self.failed += 1
        if len(self.errors) < 20:
            self.errors.append(f"{msg.topic()}[{msg.partition()}]: {err.str()}")


class Publisher:
    """Publishes events to one topic; use as a context manager."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str,
        contracts: Catalogue | None = None,
        overrides: dict[str, Any] | None = None,
        codec: Codec | None = None,
    ) -> None:
        """``codec`` frames the events: by default the Confluent wire format through the
        configured schema registry (``schemas.registry.codec_for``)."""
        self.topic = topic
        self.codec = codec or codec_for()
        self.contracts = contracts or self.codec.contracts
        self.report = DeliveryReport()
        self._producer = Producer(
            {**kafka.client_config(), **PRODUCER_DEFAULTS, **(overrides or {})}
        )

    def publish(self, event: Event) -> None:
        """Queue one event; delivery is confirmed asynchronously (see ``report``)."""
        version = self.contracts.get(event.EVENT_TYPE, event.envelope.schema_version)
        self.publish_raw(self.codec.encode(version, event.to_avro()), event.key.encode())

    def publish_raw(self, value: bytes, key: bytes | None) -> None:
        """Queue already-encoded bytes (used by tests that send what other producers might)."""
        while True:
            try:
                self._producer.produce(
                    self.topic, value=value, key=key, on_delivery=self.report.on_delivery
                )
                break
            except BufferError:
                self._producer.poll(0.1)  # queue full: let deliveries drain, then retry
        self._producer.poll(0)

    def flush(self, timeout_s: float = 120.0) -> DeliveryReport:
        """Wait for every queued event to be acknowledged or to fail."""
        remaining = self._producer.flush(timeout_s)
        if remaining:
            raise DeliveryError(
                f"{remaining} events still unacknowledged after {timeout_s:.0f}s "
                f"on topic {self.topic}"
            )
        return self.report

    def close(self) -> DeliveryReport:
        report = self.flush()
        if report.failed:
            raise DeliveryError(
                f"{report.failed} events failed delivery to {self.topic}: "
                + "; ".join(report.errors[:5])
            )
        return report

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._producer.flush(30)
