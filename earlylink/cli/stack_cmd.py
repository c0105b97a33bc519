"""``earlylink stack up | down | status | logs``: the local services."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from earlylink.stack import LocalStack
from earlylink.topics import ensure_topics

stack_app = typer.Typer(
    help="Start, check and stop the local PostgreSQL, schema registry and Kafka.",
    no_args_is_help=True,
)
console = Console()


@stack_app.command()
def up() -> None:
    """Start the stack (idempotent), wait for health, create topics, migrate the database and
    register the contracts."""
    from earlylink.database import prepare_database
    from schemas.registry import codec_for

    settings = get_settings()
    started = time.monotonic()
    first = "first run fetches Kafka's jars and Apicurio Registry"
    with console.status(f"starting PostgreSQL, the schema registry and Kafka ({first})..."):
        done = LocalStack(settings).up()
        created = ensure_topics(settings.kafka)
        applied, _ = prepare_database(settings)
        registry = codec_for(settings, wait_s=60).registry
    for service, what in done.items():
        console.print(f"{service}: {what}")
    console.print(f"topics created: {len(created)}; migrations applied: {len(applied)}")
    if registry is not None:
        console.print(f"contracts registered at {settings.registry.endpoint(settings.stack)}")
    console.print(f"stack up in {time.monotonic() - started:.1f}s")


@stack_app.command()
def down(
    purge: Annotated[
        bool, typer.Option(help="Also delete Kafka's, PostgreSQL's and the registry's data.")
    ] = False,
) -> None:
    """Stop the services this stack started (data kept unless --purge)."""
    for service, what in LocalStack(get_settings()).down(purge=purge).items():
        console.print(f"{service}: {what}{' (data purged)' if purge else ''}")


@stack_app.command()
def status() -> None:
    """A table of the services: state, endpoint, pid and memory."""
    table = Table(title="earlylink stack")
    for column in ("service", "state", "endpoint", "pid", "memory MiB", "detail"):
        table.add_column(column)
    rows = LocalStack(get_settings()).status()
    for row in rows:
        memory = f"{row.memory_mib:.0f}" if row.memory_mib is not None else "-"
        table.add_row(row.name, row.state, row.endpoint, str(row.pid or "-"), memory, row.detail)
    console.print(table)


@stack_app.command()
def logs(
    service: Annotated[str, typer.Argument(help="kafka, postgres or registry")],
    lines: Annotated[int, typer.Option("-n", help="How many lines")] = 40,
) -> None:
    """The last lines of a service's log."""
    processes = LocalStack(get_settings()).processes()
    if service not in processes:
        raise typer.BadParameter(f"unknown service {service!r}; one of {sorted(processes)}")
    console.print(processes[service].log_tail(lines), highlight=False, markup=False)
