"""``earlylink run <processor>``: run one stream processor in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from earlylink.settings import get_settings

run_app = typer.Typer(
    help="Run a stream processor in the foreground (Ctrl-C stops it).", no_args_is_help=True
)


@run_app.command()
def receipts(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
) -> None:
    """Raw topic -> receipt ledger in PostgreSQL (the first slice of the pipeline)."""
    from stream_processors.app import run_worker
    from stream_processors.receipts_agent import build

    run_worker(build(get_settings()), loglevel=loglevel)
