"""The schema registry of the local stack (Apicurio Registry, SQL storage on our PostgreSQL):
ids that survive restarts, incompatible contracts refused, and single-object events still
flowing beside Confluent-framed ones."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.errors import RegistryError
from core.settings import Settings
from earlylink.stack import LocalStack
from producers.publisher import Publisher
from schemas.catalogue import Catalogue, catalogue
from schemas.models import Envelope, PersonRecord, Role
from schemas.registry import ContractRegistry, fingerprint_of
from schemas.wire import Codec
from tests.conftest import wait_pipeline_caught_up


def _registry(settings: Settings, contracts: Catalogue | None = None) -> ContractRegistry:
    config = settings.registry.client_config(settings.stack)
    return ContractRegistry.connect(config, contracts or catalogue())


def _stored_fingerprints(settings: Settings, ids: dict[tuple[str, int], int]) -> dict[int, bytes]:
    client = _registry(settings).client
    return {i: fingerprint_of(client.get_schema(i).schema_str) for i in ids.values()}


def test_ids_survive_a_registry_restart_and_a_stack_down_up(stack: Settings) -> None:
    ids = _registry(stack).register()
    assert len(ids) == sum(len(catalogue().versions(t)) for t in catalogue().event_types)
    local = LocalStack(stack)
    assert local.manages_registry, "the test stack runs its own registry"

    assert local.registry.down()
    assert not local.registry.healthy()
    assert local.up()["registry"] == "started"
    assert _registry(stack).register() == ids

    local.down()
    assert not local.registry.healthy() and not local.postgres.healthy()
    done = local.up()
    assert done == {"postgres": "started", "registry": "started", "kafka": "started"}
    assert _registry(stack).register() == ids
    expected = {i: catalogue().get(*key).fingerprint for key, i in ids.items()}
    assert _stored_fingerprints(stack, ids) == expected
    subjects = {s.subject: s for s in _registry(stack).subjects() if s.subject.startswith("org.")}
    assert len(subjects) == len(catalogue().event_types)
    assert {s.compatibility for s in subjects.values()} == {"BACKWARD"}
    assert subjects["org.earlylink.events.PersonRecord"].versions == _person_versions()


def _person_versions() -> list[int]:
    return [v.version for v in catalogue().versions("PersonRecord")]


def _breaking_next(folder: Path) -> tuple[Path, int]:
    """The next PersonRecord version with a new field and no default: it cannot read the
    newest version's data."""
    newest = catalogue().latest("PersonRecord")
    definition = json.loads(json.dumps(newest.definition))
    definition["fields"].append({"name": "shoe_size", "type": "int"})
    path = folder / f"PersonRecord.v{newest.version + 1}.avsc"
    path.write_text(json.dumps(definition), encoding="utf-8")
    return path, newest.version + 1


def test_an_incompatible_contract_is_refused_with_a_clear_message(
    stack: Settings, tmp_path: Path
) -> None:
    from earlylink.cli.schemas_cmd import with_files

    _registry(stack).register()
    proposed, version = _breaking_next(tmp_path)
    registry = _registry(stack, with_files([proposed]))
    problems = registry.check()
    assert len(problems) == 1 and f"org.earlylink.events.PersonRecord v{version}" in problems[0]
    with pytest.raises(RegistryError, match="not BACKWARD-compatible") as refused:
        registry.register()
    assert "org.earlylink.events.PersonRecord" in str(refused.value)
    assert registry.client.get_versions("org.earlylink.events.PersonRecord") == _person_versions()

    cli = [sys.executable, "-m", "earlylink", "schemas", "check"]
    bad = subprocess.run([*cli, str(proposed)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "refused:" in bad.stdout, bad.stdout + bad.stderr
    good = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr


def _people(source: str, n: int) -> list[PersonRecord]:
    when = dt.datetime(2025, 5, 1, 9, tzinfo=dt.UTC)
    return [
        PersonRecord(
            envelope=Envelope(
                event_id=uuid.uuid4(), event_time=when, source_system=source, schema_version=2
            ),
            record_id=f"{source}-{i}",
            record_version=1,
            role=Role.CHILD,
            given_names=f"Given{i}",
            family_name="Framingham",
            date_of_birth=dt.date(2024, 1, 1) + dt.timedelta(days=i),
            postcode="SE5 8RS",
        )
        for i in range(n)
    ]


def _publish_as_an_outside_service(settings: Settings, people: list[PersonRecord]) -> None:
    """As docs/schemas.md tells a service in another language: its client's own Confluent
    serializer, record-name subjects, no auto-registration."""
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient, record_subject_name_strategy
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient(settings.registry.client_config(settings.stack))
    serializer = AvroSerializer(
        client,
        json.dumps(catalogue().get("PersonRecord", 2).definition),
        conf={
            "auto.register.schemas": False,
            "use.latest.version": True,
            "subject.name.strategy": record_subject_name_strategy,
        },
    )
    topic = settings.kafka.topic("raw")
    producer = Producer(settings.kafka.client_config())
    for person in people:
        value = serializer(person.to_avro(), SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, value=value, key=person.key.encode())
    assert producer.flush(30) == 0


def test_single_object_and_outside_serializers_flow_beside_our_framing(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = fresh_settings
    topic = settings.kafka.topic("raw")
    with Publisher(settings.kafka, topic, codec=Codec(catalogue())) as plain:  # no registry
        for person in _people("health-visiting", 20):
            plain.publish(person)
    with Publisher(settings.kafka, topic) as framed:  # the default: through the registry
        for person in _people("childrens-centre", 20):
            framed.publish(person)
    _publish_as_an_outside_service(settings, _people("early-education", 20))
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    wait_pipeline_caught_up(settings, pseudo, resolve)
    with psycopg.connect(settings.database_dsn) as conn:
        landed: dict[str, int] = dict(
            conn.execute(
                "SELECT source_system, count(*) FROM records GROUP BY source_system"
            ).fetchall()
        )
        payloads = conn.execute("SELECT DISTINCT substr(payload, 1, 2) FROM records").fetchall()
    assert landed == {"health-visiting": 20, "childrens-centre": 20, "early-education": 20}
    assert payloads == [(b"\xc3\x01",)]  # the store keeps single-object: no registry to read it
