"""docker-compose.yml cannot run here (no Docker engine); check it is valid and coherent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_services_and_health_checks() -> None:
    services = _compose()["services"]
    assert {"kafka", "postgres", "pseudonymise"} <= set(services)
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"], name


def test_kafka_is_kraft_4x() -> None:
    kafka = _compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_the_registry_is_the_stack_s_version_on_sql_storage_and_every_job_uses_it() -> None:
    from core.settings import StackSettings

    services = _compose()["services"]
    registry = services["registry"]
    assert registry["image"] == f"apicurio/apicurio-registry:{StackSettings().registry_version}"
    assert registry["environment"]["APICURIO_STORAGE_KIND"] == "sql"
    assert "postgres:5432/earlylink_registry" in registry["environment"]["APICURIO_DATASOURCE_URL"]
    for name in ("init", "topics", "schemas", "pseudonymise", "resolve"):
        url = services[name]["environment"]["EARLYLINK_SCHEMA_REGISTRY_URL"]
        assert url == "http://registry:8080/apis/ccompat/v7", name
    script = ROOT / "docker" / "registry-database.sh"
    mounts = services["postgres"]["volumes"]
    assert any(
        m.startswith("./docker/registry-database.sh:/docker-entrypoint-initdb.d/") for m in mounts
    )
    assert "CREATE DATABASE earlylink_registry OWNER earlylink_registry" in script.read_text()


def test_dependencies_name_real_services_and_secrets_exist() -> None:
    compose = _compose()
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for secret in service.get("secrets", []):
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in compose["secrets"], f"{name} uses undeclared secret {source}"


def test_no_secret_value_is_written_in_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD:" not in text
    assert "postgresql://earlylink:" not in text.replace("postgresql://earlylink:<password>", "")


def test_processor_commands_exist_in_the_cli() -> None:
    from typer.testing import CliRunner

    from earlylink.cli import app

    for name in ("init", "topics", "schemas", "pseudonymise", "resolve"):
        command = _compose()["services"][name]["command"]
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: {' '.join(command)}\n{result.output}"


def _overlay() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.sasl.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_the_sasl_overlay_denies_by_default_and_binds_each_source_to_its_own_topic() -> None:
    overlay = _overlay()
    kafka = overlay["services"]["kafka"]["environment"]
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "StandardAuthorizer" in kafka["KAFKA_AUTHORIZER_CLASS_NAME"]
    assert "PLAINTEXT://" not in kafka["KAFKA_LISTENERS"].replace("SASL_PLAINTEXT://", "")
    script = overlay["services"]["acls"]["command"][0]
    loop = script.split("for source in", 1)[1]
    assert '--topic "earlylink.raw.$$source"' in loop and "--operation Write" in loop
    assert "--resource-pattern-type prefixed" not in loop  # a source's own topic, literally
    for line in script.splitlines():  # only the pseudonymiser reads the raw topics
        if "earlylink.raw" in line and "--operation Read" in line:
            assert "User:pseudonymiser" in line
    pseudonymise = overlay["services"]["pseudonymise"]["environment"]
    assert pseudonymise["EARLYLINK_SOURCES_REQUIRE_REGISTERED"] == "true"
    assert "EARLYLINK_KAFKA_SASL_PASSWORD" not in pseudonymise  # from a secret file


def test_the_overlay_names_services_and_secrets_that_exist() -> None:
    base, overlay = _compose(), _overlay()
    secrets = {**base["secrets"], **overlay["secrets"]}
    for name, service in overlay["services"].items():
        assert name in base["services"] or "image" in service, name
        for secret in service.get("secrets", []):
            source = secret["source"] if isinstance(secret, dict) else secret
            assert source in secrets, f"{name} uses undeclared secret {source}"
        for dependency in service.get("depends_on", {}):
            assert dependency in base["services"] or dependency in overlay["services"]
