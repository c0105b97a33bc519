"""The lag collector never stops a processor: registering it collects nothing, and a scrape
while Kafka is away gives empty lag families instead of an error."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from prometheus_client import CollectorRegistry

from core.settings import Settings
from stream_processors.metrics import LagCollector


def test_kafka_away_at_registration_or_scrape_is_not_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def away(settings: Settings) -> list[object]:
        raise KafkaException(KafkaError(KafkaError._UNKNOWN_PARTITION))

    monkeypatch.setattr("stream_processors.lag.lag_rows", away)
    collector = LagCollector(Settings())
    CollectorRegistry().register(collector)  # (this once collected, and raised)
    families = list(collector.collect())
    assert [f.name for f in families] == [
        "kafka_consumergroup_lag",
        "kafka_consumergroup_lag_seconds",
    ]
    assert all(not f.samples for f in families)
