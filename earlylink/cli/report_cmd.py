"""``earlylink report``: the partnership report as one self-contained HTML file (and CSVs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.settings import get_settings

console = Console()


def report(
    period: Annotated[
        str | None,
        typer.Option(
            help="A quarter (2025Q1) or a year (2025). Default: the latest quarter with data."
        ),
    ] = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day of a quarter."),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of a quarter."),
    ] = None,
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    csv_dir: Annotated[
        Path | None, typer.Option(help="Also write every table as CSV into this folder.")
    ] = None,
) -> None:
    """The partnership report: reach, services, districts, combinations, journeys, outcomes and
    data quality, from the analytics views as the analyst role (small numbers hidden)."""
    from earlylink.report.build import build_report

    dsn = get_settings().as_login("analyst").database_dsn
    with console.status("reading the analytics views and drawing the charts..."):
        made = build_report(
            dsn,
            out,
            csv_dir,
            period,
            start.date() if start else None,
            end.date() if end else None,
        )
    console.print(
        f"report for {made.period.label} written to {made.html.resolve()}"
        f" in {made.seconds:.1f}s ({made.hidden} figures hidden below {made.threshold})"
    )
    if made.csvs:
        console.print(f"{len(made.csvs)} CSV tables in {csv_dir}")
