"""Events published with our library come back off real Kafka as the same pydantic objects."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from confluent_kafka import Consumer

from core.settings import Settings
from earlylink.topics import TopicSpec, ensure_topics
from producers.publisher import Publisher
from schemas.models import MODELS, PersonRecord
from schemas.registry import codec_for


def test_published_events_decode_to_equal_models(
    live_settings: Settings, make_person: Callable[..., PersonRecord]
) -> None:
    topic = live_settings.kafka.topic(f"roundtrip-{uuid.uuid4().hex[:6]}")
    ensure_topics(live_settings.kafka, [TopicSpec(topic, 3_600_000, "test")])
    sent = [make_person(record_id=f"rt-{i}", given_names=f"Name{i}") for i in range(50)]
    with Publisher(live_settings.kafka, topic) as publisher:
        for event in sent:
            publisher.publish(event)
    assert publisher.report.delivered == 50

    consumer = Consumer(
        {
            **live_settings.kafka.client_config(),
            "group.id": f"rt-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    received: dict[uuid.UUID, PersonRecord] = {}
    keys: dict[uuid.UUID, bytes] = {}
    try:
        for _ in range(200):
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            decoded = codec_for().decode(msg.value() or b"")
            model = MODELS[decoded.event_type].from_avro(decoded.record)
            assert isinstance(model, PersonRecord)
            received[model.envelope.event_id] = model
            keys[model.envelope.event_id] = msg.key() or b""
            if all(e.envelope.event_id in received for e in sent):
                break
    finally:
        consumer.close()
    for event in sent:
        assert received[event.envelope.event_id] == event
        assert keys[event.envelope.event_id] == f"hv-mandated-checks|{event.record_id}".encode()
