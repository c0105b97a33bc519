"""The stream processors use the same TLS/SASL settings as the confluent-kafka clients."""

from __future__ import annotations

import faust
import pytest

from core.settings import KafkaSettings
from stream_processors.app import broker_credentials


def test_plaintext_has_no_credentials() -> None:
    assert broker_credentials(KafkaSettings(security_protocol="PLAINTEXT")) is None


def test_sasl_ssl_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYLINK_KAFKA_SASL_PASSWORD", "not-logged")
    kafka = KafkaSettings(
        security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="earlylink"
    )
    credentials = broker_credentials(kafka)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "earlylink" and credentials.password == "not-logged"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.ssl_context is not None
    assert "not-logged" not in repr(kafka)


def test_ssl_only(tmp_path: object) -> None:
    assert isinstance(
        broker_credentials(KafkaSettings(security_protocol="SSL")), faust.SSLCredentials
    )
