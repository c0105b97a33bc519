"""``earlylink produce synthetic | extract``: publish service events to the raw topic."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from earlylink.settings import get_settings

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
    rate: Annotated[float, typer.Option(help="Events per second (0 = unlimited).")] = 0,
) -> None:
    """Import a quarterly extract: rows become events; unmappable rows are listed, not dropped."""
    from producers.extract import import_extract, load_mapping

    started = time.monotonic()
    result = import_extract(get_settings(), file, load_mapping(mapping), rate)
    for kind, problems in (("rejected", result.rejected), ("warning", result.field_warnings)):
        for problem in problems[:50]:
            console.print(
                f"[yellow]{kind}[/] line {problem.line}: {problem.reason}", highlight=False
            )
        if len(problems) > 50:
            console.print(f"... and {len(problems) - 50} more ({kind})")
    console.print(
        f"rows read: {result.rows:,}; mapped: {result.mapped:,}; "
        f"rejected: {len(result.rejected):,}; "
        f"fields left out: {len(result.field_warnings):,}"
    )
    _report(result.delivered, result.failed, time.monotonic() - started, result.mapped)
    if result.failed:
        raise typer.Exit(1)


def _report(delivered: int, failed: int, seconds: float, events: int) -> None:
    colour = "red" if failed else "green"
    console.print(
        f"[{colour}]delivered {delivered:,}, failed {failed:,}[/] "
        f"in {seconds:.1f}s ({events / max(seconds, 1e-9):,.0f} events/s)"
    )
