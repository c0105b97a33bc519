"""``earlylink sources add|list|disable|enable``: the register of source systems allowed to
publish (events from any other source are dead-lettered while the register is required)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings

sources_app = typer.Typer(
    help="The register of source systems allowed to publish.", no_args_is_help=True
)
console = Console()


@sources_app.command("add")
def add(
    names: Annotated[list[str], typer.Argument(help="Source system names, as in the envelope.")],
    description: Annotated[str, typer.Option(help="Who runs it, what it sends.")] = "",
    own_topic: Annotated[
        bool,
        typer.Option(
            "--own-topic",
            help="Bind the source to a raw topic of its own (<prefix>.raw.<name>, created"
            " here), which Kafka ACLs let only it write; restart the pseudonymiser after.",
        ),
    ] = False,
) -> None:
    """Register source systems (enabled). A disabled one stays disabled: use `enable`."""
    from earlylink.topics import ensure_topics, own_topic_spec
    from sink.sources import add_sources

    settings = get_settings()
    specs = [own_topic_spec(settings.kafka, name) for name in names] if own_topic else []
    added = add_sources(settings.database_dsn, names, description, own_topic)
    known = sorted(set(names) - set(added))
    console.print(
        f"registered {len(added)} source(s)"
        + (": " + ", ".join(added) if added else "")
        + (f"; already in the register: {', '.join(known)}" if known else "")
    )
    if specs:
        ensure_topics(settings.kafka, specs)
        for spec in specs:
            console.print(
                f"{spec.name}: grant WRITE on it to that service's principal only, and READ to"
                " the pseudonymiser's (docs/operations.md, Kafka ACLs)"
            )


@sources_app.command("list")
def list_() -> None:
    """Every registered source, enabled or not."""
    from sink.sources import list_sources

    settings = get_settings()
    table = Table(title="registered sources")
    for column in ("source", "enabled", "own topic", "description", "added", "changed"):
        table.add_column(column)
    for source in list_sources(settings.database_dsn):
        table.add_row(
            source.name,
            "yes" if source.enabled else "[red]no[/]",
            settings.kafka.topic(f"raw.{source.name}") if source.own_topic else "-",
            source.description,
            f"{source.added_at:%Y-%m-%d %H:%M}",
            f"{source.changed_at:%Y-%m-%d %H:%M}",
        )
    console.print(table)
    if not settings.sources.require_registered:
        console.print(
            "[yellow]the register is not required (EARLYLINK_SOURCES_REQUIRE_REGISTERED=false):"
            " unregistered sources are accepted; disabled ones are still refused[/]"
        )


@sources_app.command()
def disable(name: Annotated[str, typer.Argument(help="A registered source.")]) -> None:
    """Refuse this source's events from now on (they go to the dead-letter topic)."""
    from sink.sources import set_enabled

    set_enabled(get_settings().database_dsn, name, False)
    refresh = get_settings().sources.refresh_s
    console.print(f"{name} disabled; the pseudonymiser refuses its events within {refresh:g} s")


@sources_app.command()
def enable(name: Annotated[str, typer.Argument(help="A registered source.")]) -> None:
    """Accept this source's events again."""
    from sink.sources import set_enabled

    set_enabled(get_settings().database_dsn, name, True)
    console.print(f"{name} enabled")
