"""``earlylink run <processor>``: run one stream processor in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from core.settings import Settings, get_settings
from earlylink.processors import check_offsets, wait_for_services

run_app = typer.Typer(
    help="Run a stream processor in the foreground (Ctrl-C stops it).", no_args_is_help=True
)


def _ready(login: str) -> Settings:
    """The settings of a processor: every connection as its own login role, never the owner;
    refused when its stored offsets are past its input topic's end (``check_offsets``)."""
    settings = get_settings().as_login(login)
    wait_for_services(settings, settings.processor.wait_for_services_s)
    check_offsets(settings, login)
    return settings


@run_app.command()
def pseudonymise(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
) -> None:
    """Raw topic -> validate, consent gate, tokens -> pseudonymised / dead-letter topics."""
    from stream_processors.pseudonymise_agent import run

    run(_ready("pseudonymise"), loglevel)


@run_app.command()
def resolve(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
) -> None:
    """Pseudonymised topic -> persons and families in the identity graph (PostgreSQL)."""
    from stream_processors.resolve_agent import run

    run(_ready("resolve"), loglevel)
