"""``earlylink lag``: consumer lag of each stage, refreshing live."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from core.settings import Settings, get_settings

console = Console()


def _table() -> Table:
    from stream_processors.lag import lag_rows

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


def status() -> None:
    """The whole pipeline at a glance: services, processors (pid, health, web pages), lag."""
    from earlylink.cli.stack_cmd import status as stack_status
    from earlylink.processors import PROCESSORS, processor, stage_status
    from stream_processors.app import WEB_PORT_OFFSET
    from stream_processors.lag import lag_rows

    settings = get_settings()
    stack_status()
    lags: dict[str, int] = {}
    for row in lag_rows(settings):
        lags[row.group] = lags.get(row.group, 0) + row.lag
    table = Table(title="stream processors")
    for column in ("stage", "pid", "events committed", "lag (messages)", "pages"):
        table.add_column(column)
    for name in PROCESSORS:
        pid = processor(settings, name).pid()
        live = stage_status(settings, name)
        port = settings.processor.web_port + WEB_PORT_OFFSET[name]
        table.add_row(
            name,
            str(pid) if pid else ("running elsewhere" if live else "stopped"),
            f"{live['events']:,}" if live else "-",
            f"{lags.get(settings.kafka.group(name), 0):,}",
            f"http://127.0.0.1:{port}/status  /metrics  /health" if live else "-",
        )
    console.print(table)
    _linkage(settings)


def _linkage(settings: Settings) -> None:
    """The linkage model against the store's traces of it, and the next step."""
    from core.errors import SinkError
    from earlylink.linkage_status import linkage_rows, stored
    from stream_processors.resolve.model import configured_model

    try:
        store = stored(settings.database_dsn)
    except SinkError as exc:  # the stack's table above says which service is down
        console.print(f"linkage: {exc}")
        return
    table = Table(title="linkage", show_header=False)
    table.add_column("what")
    table.add_column("state")
    rows = linkage_rows(configured_model(settings), settings.processor.model_path, store)
    for label, text in rows:
        table.add_row(label, text)
    console.print(table)
