"""``earlylink produce synthetic | extract``: publish service events to the raw topic."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings

produce_app = typer.Typer(help="Publish service events to Kafka.", no_args_is_help=True)
console = Console()


@produce_app.command()
def synthetic(
    families: Annotated[int, typer.Option(help="Families in the borough.")] = 15_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same events).")] = 7,
    rate: Annotated[float, typer.Option(help="Events per second (0 = as fast as possible).")] = 0,
    out: Annotated[Path | None, typer.Option(help="Folder for the ground truth file.")] = None,
    at_source: Annotated[
        bool,
        typer.Option(help="Pseudonymise here and publish tokens only (no raw identifiers leave)."),
    ] = False,
) -> None:
    """Generate a synthetic borough (with ground truth) and publish its events in time order."""
    from producers.synthetic.publish import publish_borough

    folder = out or Path("out") / f"borough-{families}-{seed}"
    result = publish_borough(get_settings(), families, seed, rate, folder, at_source=at_source)
    table = Table(title="synthetic borough: realism", show_header=False)
    for label, value in result.realism:
        table.add_row(label, value)
    console.print(table)
    _report(result.delivered, result.failed, result.seconds, result.events)
    console.print(f"ground truth: {result.truth_path} ({result.truth_rows:,} records)")
    if result.failed:
        raise typer.Exit(1)


@produce_app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="CSV or JSON-lines extract.", exists=True)],
    mapping: Annotated[Path, typer.Option(help="YAML mapping file.", exists=True)],
    check: Annotated[
        bool, typer.Option("--check", help="Map every row and publish nothing: a profile.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The extract's date (YYYY-MM-DD), for rows the mapping gives no event_time:"
            " dates of birth are judged plausible on it.",
        ),
    ] = None,
    rate: Annotated[float, typer.Option(help="Events per second (0 = unlimited).")] = 0,
) -> None:
    """Import a service's extract: rows become events; unmappable rows are listed, not dropped.
    Run with --check first: it publishes nothing and prints what the pipeline would receive."""
    from earlylink.cli.extract_view import show_import, show_profile
    from producers.extract import check_extract, import_extract, load_mapping
    from stream_processors.pseudonymise.rules import rules_from

    date = _date(as_of)
    settings = get_settings()
    loaded = load_mapping(mapping)
    if check:
        show_profile(check_extract(file, loaded, date, rules_from(settings.linkage)), file.name)
        return
    started = time.monotonic()
    result = import_extract(settings, file, loaded, rate, date)
    show_import(result)
    _report(result.delivered, result.failed, time.monotonic() - started, result.mapped)
    if result.failed:
        raise typer.Exit(1)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("give the date as YYYY-MM-DD", param_hint="--as-of") from None


def _report(delivered: int, failed: int, seconds: float, events: int) -> None:
    colour = "red" if failed else "green"
    console.print(
        f"[{colour}]delivered {delivered:,}, failed {failed:,}[/] "
        f"in {seconds:.1f}s ({events / max(seconds, 1e-9):,.0f} events/s)"
    )
