"""``earlylink query <view>``: the analytics views, as the analyst role sees them (aggregates),
or with ``--researcher`` as the researcher role (row-level views too; every query audited)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings

console = Console()


def query(
    view: Annotated[
        str,
        typer.Argument(
            help="An analytics view, e.g. unique_beneficiaries (`earlylink query list` shows them)."
        ),
    ],
    where: Annotated[
        list[str] | None, typer.Option("--where", "-w", help="column=value filter (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most rows to show (0 = all).")] = 50,
    order_by: Annotated[str | None, typer.Option(help="Column to sort by, descending.")] = None,
    to_csv: Annotated[
        Path | None, typer.Option("--csv", help="Write all rows to this file.")
    ] = None,
    researcher: Annotated[
        bool,
        typer.Option(
            "--researcher",
            help="Read as the researcher role: row-level views (persons, contacts, journeys,"
            " outcomes) too; the query is written to the audit log.",
        ),
    ] = False,
) -> None:
    """Query an analytics view (small numbers suppressed; no tokens in any view)."""
    from sink.analytics import query_view, views

    # as the analyst's (or researcher's) own login role, not the owner
    dsn = get_settings().as_login("researcher" if researcher else "analyst").database_dsn
    if view == "list":
        for name in views(dsn):
            console.print(name)
        return
    filters = {}
    for item in where or []:
        column, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--where needs column=value, got {item!r}")
        filters[column.strip()] = value.strip()
    result = query_view(
        dsn,
        view,
        filters,
        None if to_csv or not limit else limit,
        order_by,
        researcher=researcher,
    )
    if to_csv:
        with to_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(result.columns)
            writer.writerows(result.rows)
        console.print(f"{len(result.rows):,} rows written to {to_csv}")
        return
    table = Table(title=f"analytics.{view}")
    for column in result.columns:
        table.add_column(column)
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
