"""Replaying what the resolver set aside (``earlylink quarantine replay``), once it is mended.

Each chosen message goes back on the topic it came from, as it was (pseudonymised: tokens and
encodings only), under its record key (so it lands on the partition that key's messages use)
and with a ``replayed-from`` header naming the position it was set aside at. Only messages
Kafka acknowledged are marked replayed, and only then: if the command stops in between, a
second run sends them again, which the resolver takes as the repeat it is (a record version
it holds already changes nothing). A replay the resolver cannot write either is set aside
again, at its new position, with its reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Producer

from core.errors import DeliveryError, EarlylinkError
from core.settings import Settings
from core.vocabulary import REPLAYED_FROM
from schemas.registry import codec_for
from sink.quarantined import Quarantined, mark_replayed


@dataclass(frozen=True)
class Replayed:
    sent: int  # acknowledged by Kafka, and marked replayed
    failed: int  # not acknowledged: still quarantined, to replay again


def message_key(settings: Settings, row: Quarantined) -> bytes | None:
    """The record key a message is keyed by on the pseudonymised topic (None for a message
    that still does not decode: it goes back unkeyed, and is likely set aside again)."""
    with contextlib.suppress(EarlylinkError, KeyError, TypeError, ValueError):
        key = codec_for(settings).decode(row.payload).record.get("record_key")
        return key.encode() if isinstance(key, str) else None
    return None


def replay(settings: Settings, rows: Sequence[Quarantined], timeout_s: float = 60) -> Replayed:
    """Publish ``rows`` again where they came from, in position order, and mark those
    acknowledged replayed (``sink.quarantined.mark_replayed``)."""
    producer = Producer({**settings.kafka.client_config(), "enable.idempotence": True})
    done: dict[tuple[str, int, int], str] = {}

    def delivered(position: tuple[str, int, int]) -> Any:
        def report(err: Any, msg: Any) -> None:
            if err is None:
                done[position] = f"{msg.topic()}:{msg.partition()}:{msg.offset()}"

        return report

    try:
        for row in sorted(rows, key=lambda r: r.position):
            _produce(
                producer,
                row.topic,
                value=row.payload,
                key=message_key(settings, row),
                headers=[(REPLAYED_FROM, ":".join(map(str, row.position)).encode())],
                on_delivery=delivered(row.position),
            )
        producer.flush(timeout_s)
    except KafkaException as exc:
        raise DeliveryError(f"replaying the resolver's quarantine: {exc}") from exc
    finally:
        mark_replayed(settings.database_dsn, done)  # what Kafka took, whatever else happened
    return Replayed(len(done), len(rows) - len(done))


def _produce(producer: Producer, topic: str, **message: Any) -> None:
    """Send one message, waiting for room while the producer's local queue is full."""
    while True:
        try:
            producer.produce(topic, **message)
        except BufferError:
            producer.poll(1.0)  # deliveries free room
            continue
        producer.poll(0)
        return
