"""``earlylink lag``: consumer lag of each stage, refreshing live."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from earlylink.settings import get_settings

console = Console()


def _table() -> Table:
    from earlylink.ops import lag_rows

    table = Table(title=f"consumer lag at {time.strftime('%H:%M:%S')}")
    for column in ("group", "topic", "partition", "committed", "end", "lag", "lag s"):
        table.add_column(column, justify="right")
    for row in lag_rows(get_settings()):
        seconds = "-" if row.lag_seconds is None else f"{row.lag_seconds:,.1f}"
        table.add_row(
            row.group,
            row.topic,
            str(row.partition),
            f"{row.committed:,}",
            f"{row.end:,}",
            f"{row.lag:,}",
            seconds,
        )
    return table


def lag(
    watch: Annotated[bool, typer.Option(help="Refresh until Ctrl-C.")] = True,
    every: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 2.0,
) -> None:
    """Consumer lag per group, topic and partition (messages and seconds), from the offsets
    committed in PostgreSQL with the writes against Kafka's high watermarks."""
    if not watch:
        console.print(_table())
        return
    with Live(_table(), console=console, refresh_per_second=4) as live:
        try:
            while True:
                time.sleep(every)
                live.update(_table())
        except KeyboardInterrupt:
            pass
