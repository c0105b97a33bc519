"""``earlylink schemas register | check | list``: the event contracts in the schema registry."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import ConfigurationError
from core.settings import Settings, get_settings
from schemas.catalogue import Catalogue, catalogue, load_from_files
from schemas.registry import ContractRegistry

schemas_app = typer.Typer(
    help="The Avro contracts in the schema registry (record-name subjects, BACKWARD).",
    no_args_is_help=True,
)
console = Console()


def _registry(settings: Settings, contracts: Catalogue) -> ContractRegistry:
    config = settings.registry.client_config(settings.stack)
    if not config:
        raise ConfigurationError(
            "no schema registry: EARLYLINK_SCHEMA_REGISTRY_ENABLED is false (events travel in"
            " Avro single-object encoding)"
        )
    return ContractRegistry.connect(config, contracts)


def with_files(files: list[Path]) -> Catalogue:
    """The shipped contracts with ``files`` added (or replacing those of the same name)."""
    folder = resources.files("schemas").joinpath("avro")
    texts = {
        f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".avsc")
    }
    for path in files:
        if not path.is_file():
            raise ConfigurationError(f"{path} is not a file")
        texts[path.name] = path.read_text(encoding="utf-8")
    return load_from_files(texts)


@schemas_app.command()
def register() -> None:
    """Register every contract version under its subject, with BACKWARD compatibility set (the
    processors and producers do this at start; ids already given are kept)."""
    settings = get_settings()
    contracts = catalogue()
    ids = _registry(settings, contracts).register()
    for (event_type, number), schema_id in sorted(ids.items(), key=lambda item: item[1]):
        subject = contracts.get(event_type, number).subject
        console.print(f"{subject} v{number}: id {schema_id}")
    console.print(f"{len(ids)} versions registered at {settings.registry.endpoint(settings.stack)}")


@schemas_app.command()
def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Proposed contract files (Name.vN.avsc) to check with the shipped ones."
        ),
    ] = None,
) -> None:
    """Would the registry accept the contracts (and FILES)? Exit 1 naming each refusal."""
    settings = get_settings()
    contracts = with_files(files or [])
    problems = _registry(settings, contracts).check()
    for problem in problems:
        console.print(f"[red]refused:[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print("every contract is compatible with what the registry holds")


@schemas_app.command("list")
def list_subjects() -> None:
    """The subjects the registry holds: versions, latest id, compatibility rule."""
    table = Table(title="schema registry subjects")
    for column in ("subject", "versions", "latest id", "compatibility"):
        table.add_column(column)
    for state in _registry(get_settings(), catalogue()).subjects():
        versions = ", ".join(str(v) for v in state.versions)
        table.add_row(state.subject, versions, str(state.latest_id), state.compatibility)
    console.print(table)
