"""The local stack: up is idempotent and the services answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from core.settings import PathSettings, Settings, connection_string
from earlylink.stack import LocalStack
from sink.migrate import migrate


def test_up_twice_is_fine(stack: Settings) -> None:
    local = LocalStack(stack)
    again = local.up()
    assert set(again.values()) <= {"already running", "running (not started here)", "external"}
    states = {row.name: row.state for row in local.status()}
    assert states["kafka"].startswith("healthy")
    assert states["postgres"].startswith("healthy")


def test_migrations_repeat_without_change(live_settings: Settings) -> None:
    assert migrate(live_settings.database_dsn) == []
    with psycopg.connect(live_settings.database_dsn) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert count is not None and count[0] >= 1


def test_storage_formats_with_a_cluster_id_starting_with_a_dash(
    stack: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One random cluster id in 64 starts with '-'; the real StorageTool must still take it."""
    from earlylink.stack import kafka as kafka_module

    dashed = kafka_module.new_cluster_id(b"\xfb" + bytes(15))
    assert dashed.startswith("-")
    monkeypatch.setattr(kafka_module, "new_cluster_id", lambda: dashed)
    paths = PathSettings(cache_dir=stack.paths.cache_dir, state_dir=tmp_path)
    node = kafka_module.KafkaNode(paths, stack.stack, stack.kafka)
    node.format_storage(node.configure())
    meta = (tmp_path / "kafka" / "data" / "meta.properties").read_text()
    assert f"cluster.id={dashed}" in meta


def test_created_topics_are_served_when_ensure_topics_returns(stack: Settings) -> None:
    """A processor started right after creation must find its topic (CI once saw one told
    'not found' and then wait five minutes for aiokafka's next metadata refresh)."""
    from uuid import uuid4

    from confluent_kafka import Consumer

    from earlylink.topics import TopicSpec, ensure_topics

    name = f"test-served-{uuid4().hex[:8]}"
    assert ensure_topics(stack.kafka, [TopicSpec(name, 3_600_000, "test")]) == [name]
    consumer = Consumer({**stack.kafka.client_config(), "group.id": f"{name}-probe"})
    try:
        topic = consumer.list_topics(name, timeout=10).topics[name]
    finally:
        consumer.close()
    assert topic.error is None
    assert len(topic.partitions) == stack.kafka.partitions
    assert all(p.leader >= 0 for p in topic.partitions.values())


def test_retention_comes_from_the_settings_and_reaches_existing_topics(
    isolated: Callable[..., Settings],
) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import ConfigResource

    from core.settings import KafkaSettings
    from earlylink.topics import ensure_topics

    settings = isolated()  # its topics made with the default retention
    shorter = KafkaSettings(
        **{**settings.kafka.model_dump(), "raw_retention_days": 2, "deadletter_retention_days": 1}
    )
    assert ensure_topics(shorter) == []  # nothing made: the existing topics changed
    admin = AdminClient(shorter.client_config())
    found = {}
    for name in ("raw", "deadletter", "pseudonymised"):
        resource = ConfigResource("topic", shorter.topic(name))
        configs = admin.describe_configs([resource])[resource].result(timeout=30)
        found[name] = int(configs["retention.ms"].value)
    day = 24 * 3_600_000
    assert found == {"raw": 2 * day, "deadletter": 1 * day, "pseudonymised": 30 * day}


def test_admin_makes_and_drops_databases_and_logins(live_settings: Settings) -> None:
    """sink.admin, which the stack and the benchmarks use: creating is idempotent, a prefix
    drops only its own databases, and a login made twice takes the second password."""
    import uuid

    from sink import admin
    from sink.connection import answers

    dsn, run = live_settings.database_dsn, uuid.uuid4().hex[:6]
    names = [f"admin_test_{run}_a", f"admin_test_{run}_b"]
    assert admin.create_database(dsn, names[0]) is True
    assert admin.create_database(dsn, names[0]) is False
    admin.create_database(dsn, names[1])
    login = f"admin_test_{run}"
    try:
        admin.ensure_login(dsn, login, "first-Secret-1")
        admin.ensure_login(dsn, login, "second-Secret-2")
        as_login = connection_string(dsn, user=login, password="second-Secret-2")
        assert answers(as_login)
        assert not answers(connection_string(dsn, user=login, password="first-Secret-1"))
        assert sorted(admin.drop_databases_like(dsn, f"admin_test_{run}_")) == names
        assert admin.drop_databases_like(dsn, f"admin_test_{run}_") == []
        assert answers(dsn)
    finally:
        for name in names:
            admin.drop_database(dsn, name)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(login))
            )
