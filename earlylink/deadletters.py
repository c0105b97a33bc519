"""The dead-letter topic for operators (``earlylink deadletter``): list letters by reason and
position, show one with its identifiers redacted, replay letters once their producer is fixed,
and shred the data keys of past days (``stream_processors/pseudonymise/sealing.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from core.errors import ContractError
from core.settings import Settings
from core.vocabulary import REPLAYED_FROM
from schemas.registry import codec_for
from stream_processors.lag import end_offsets
from stream_processors.pseudonymise.keyfiles import load_keyring
from stream_processors.pseudonymise.sealing import (
    DataKeys,
    Opened,
    SealError,
    data_keys,
    is_sealed,
    open_sealed,
)

# the fields a dead letter may show in clear: codes and states, never who
SHOWN = frozenset(
    {
        "event_id",
        "event_time",
        "source_system",
        "schema_version",
        "record_version",
        "role",
        "sex",
        "consent",
        "service_code",
        "activity_code",
        "contact_type",
        "contact_date",
        "duration_minutes",
        "tool_code",
        "domain",
        "score",
        "measured_on",
        "new_state",
        "reason",
        "relationship",
        "scheme",
    }
)


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    timestamp: dt.datetime | None
    headers: dict[str, str]
    value: bytes

    @property
    def where(self) -> str:
        """Its origin (the sealed payload's associated data)."""
        h = self.headers
        return f"{h.get('source-topic')}:{h.get('source-partition')}:{h.get('source-offset')}"

    @property
    def state(self) -> str:
        if self.headers.get("payload", "").startswith("withheld"):
            return "withheld (no consent)"
        return f"sealed {self.headers['sealed']}" if is_sealed(self.value) else "clear"


def letters(settings: Settings) -> Iterator[Letter]:
    """Every letter on the dead-letter topic, oldest first per partition."""
    topic = settings.kafka.topic("deadletter")
    ends = end_offsets(settings.kafka, topic)
    consumer = Consumer(
        {
            **settings.kafka.client_config(),
            "group.id": "earlylink-deadletter-cli",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        left = sum(ends.values())
        while left > 0:
            message = consumer.poll(5.0)
            if message is None:
                break
            if message.error() is not None:
                continue
            left -= 1
            kind, stamp = message.timestamp()
            yield Letter(
                message.partition() or 0,
                message.offset() or 0,
                dt.datetime.fromtimestamp(stamp / 1000, dt.UTC) if kind else None,
                headers_of(message.headers() or []),
                message.value() or b"",
            )
    finally:
        consumer.close()


def headers_of(found: Any) -> dict[str, str]:
    """A consumed message's headers as text (confluent-kafka gives a list of pairs, and types
    them as a list or a dict)."""
    pairs = found.items() if isinstance(found, dict) else found
    return {
        k: v.decode(errors="replace") if isinstance(v, bytes) else str(v or "") for k, v in pairs
    }


def keys_of(settings: Settings) -> DataKeys:
    return data_keys(settings.deadletter_key_dir, load_keyring(settings))


def opened(keys: DataKeys, letter: Letter) -> Opened:
    if not is_sealed(letter.value):
        raise SealError(f"this dead letter is {letter.state}: there is nothing to open")
    return open_sealed(keys, letter.value, letter.where)


def redacted(settings: Settings, raw: bytes) -> dict[str, Any]:
    """The letter's event with every identifying value replaced by its length."""
    try:
        decoded = codec_for(settings).decode(raw)
    except ContractError as exc:
        return {"undecodable": str(exc)}
    return {"event_type": decoded.event_type, **_redact(decoded.record)}


def _redact(node: Any, name: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _redact(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_redact(v, name) for v in node]
    if node is None or name in SHOWN:
        return node
    return f"[redacted: {len(str(node))} characters]"


def replay(settings: Settings, chosen: list[tuple[Letter, Opened]]) -> int:
    """Publish the opened letters again where they came from (a ``replayed-from`` header
    says which letter); returns how many Kafka acknowledged."""
    producer = Producer({**settings.kafka.client_config(), "enable.idempotence": True})
    delivered = 0

    def count(err: Any, _msg: Any) -> None:
        nonlocal delivered
        delivered += err is None

    for letter, content in chosen:
        origin = letter.headers.get("source-topic") or settings.kafka.topic("raw")
        header = f"{settings.kafka.topic('deadletter')}:{letter.partition}:{letter.offset}"
        producer.produce(
            origin,
            value=content.value,
            key=content.key,
            headers=[(REPLAYED_FROM, header.encode())],
            on_delivery=count,
        )
    producer.flush(60)
    return delivered
