"""Settings: environment overrides, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import DatabaseSettings, KafkaSettings, Settings, StackSettings


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYLINK_KAFKA_BOOTSTRAP", "broker.example:9094")
    monkeypatch.setenv("EARLYLINK_KAFKA_TOPIC_PREFIX", "borough")
    kafka = KafkaSettings()
    assert kafka.client_config()["bootstrap.servers"] == "broker.example:9094"
    assert kafka.topic("raw") == "borough.raw"


def test_database_url_is_secret_and_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYLINK_DATABASE_URL", "postgresql://writer:s3cret@db.example/el")
    database = DatabaseSettings()
    assert "s3cret" not in repr(database)
    assert "s3cret" not in str(database.model_dump())
    assert database.dsn(StackSettings()) == "postgresql://writer:s3cret@db.example/el"


def test_embedded_database_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from psycopg import conninfo

    monkeypatch.delenv("EARLYLINK_DATABASE_URL", raising=False)
    monkeypatch.setenv("EARLYLINK_DATABASE_PASSWORD", "owner-pw")
    dsn = DatabaseSettings().dsn(StackSettings(postgres_port=5555), tmp_path)
    parts = conninfo.conninfo_to_dict(dsn)
    assert {k: parts[k] for k in ("user", "host", "port", "dbname")} == {
        "user": "postgres",
        "host": "127.0.0.1",
        "port": "5555",
        "dbname": "earlylink",
    }
    assert parts["password"] == "owner-pw"  # never compared whole: a failure would print it


def test_sasl_settings_reach_the_client_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARLYLINK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("EARLYLINK_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("EARLYLINK_KAFKA_SASL_USERNAME", "earlylink")
    monkeypatch.setenv("EARLYLINK_KAFKA_SASL_PASSWORD", "pw-not-printed")
    kafka = KafkaSettings()
    assert "pw-not-printed" not in repr(kafka)
    config = kafka.client_config()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.password"] == "pw-not-printed"


def test_gc_thresholds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import ProcessorSettings

    assert ProcessorSettings().gc_thresholds == (50_000, 20, 100)
    monkeypatch.setenv("EARLYLINK_PROCESSOR_GC_THRESHOLDS", "[10000, 5, 50]")
    assert ProcessorSettings().gc_thresholds == (10_000, 5, 50)


def test_the_registry_is_the_local_stack_s_unless_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.settings import RegistrySettings
    from earlylink.stack import LocalStack

    stack = StackSettings(registry_port=18555)
    local = RegistrySettings()
    assert local.client_config(stack) == {"url": "http://127.0.0.1:18555/apis/ccompat/v7"}
    assert LocalStack(Settings(registry=local, stack=stack)).manages_registry

    monkeypatch.setenv("EARLYLINK_SCHEMA_REGISTRY_URL", "https://sr.example/apis/ccompat/v7")
    monkeypatch.setenv("EARLYLINK_SCHEMA_REGISTRY_USERNAME", "earlylink")
    monkeypatch.setenv("EARLYLINK_SCHEMA_REGISTRY_PASSWORD", "s3cret-value")
    secured = RegistrySettings()
    config = secured.client_config(stack)
    assert config["url"] == "https://sr.example/apis/ccompat/v7"
    assert config["basic.auth.user.info"] == "earlylink:s3cret-value"
    assert "s3cret-value" not in repr(secured)  # a SecretStr: never printed
    assert not LocalStack(Settings(registry=secured, stack=stack)).manages_registry

    off = RegistrySettings(enabled=False)
    assert off.client_config(stack) == {} and off.endpoint(stack) is None
    assert not LocalStack(Settings(registry=off, stack=stack)).manages_registry
