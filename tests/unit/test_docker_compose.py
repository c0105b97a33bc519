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

    for name in ("init", "topics", "pseudonymise"):
        command = _compose()["services"][name]["command"]
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: {' '.join(command)}\n{result.output}"
