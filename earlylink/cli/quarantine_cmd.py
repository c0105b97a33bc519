"""``earlylink quarantine list | replay``: what the resolver set aside, and sending it again."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings

quarantine_app = typer.Typer(
    help="The resolver's quarantine: list what it set aside and why; replay it once mended.",
    no_args_is_help=True,
)
console = Console()


@quarantine_app.command("list")
def list_quarantined(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason's code (as the list shows it).")
    ] = None,
    replayed: Annotated[bool, typer.Option(help="Show those replayed already too.")] = False,
    limit: Annotated[int, typer.Option(help="Most rows to show (0 = all).")] = 50,
) -> None:
    """Every message the resolver set aside: its position, when, its source and type, and the
    reason (the message itself holds tokens only and is never shown)."""
    from sink.quarantined import quarantined

    rows = quarantined(get_settings().database_dsn, reason, replayed)
    table = Table(title="the resolver's quarantine")
    for column in ("position", "when", "source", "type", "reason", "replayed to"):
        table.add_column(column)
    for row in rows[: limit or None]:
        table.add_row(
            f"{row.topic}:{row.partition}:{row.offset}",
            row.quarantined_at.strftime("%Y-%m-%d %H:%M"),
            row.source_system or "-",
            row.event_type or "-",
            row.reason,
            row.replayed_to or "-",
        )
    console.print(table)
    waiting = Counter(row.code for row in rows if row.replayed_at is None)
    summary = ", ".join(f"{code} {n:,}" for code, n in waiting.most_common()) or "none"
    console.print(f"waiting to be replayed, by reason: {summary}", highlight=False)


@quarantine_app.command()
def replay(
    reason: Annotated[
        str | None, typer.Option(help="Replay the messages with this reason's code.")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Replay every message not replayed yet.")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be replayed.")] = False,
) -> None:
    """Send messages the resolver set aside back to their topic, once what set them aside is
    mended (a fixed resolver, or one upgraded to read a newer contract). Each is replayed once;
    one the resolver still cannot write is set aside again with its reason."""
    from earlylink.quarantine import replay as send_again
    from sink.quarantined import quarantined

    if (reason is None) == (not everything):
        raise typer.BadParameter(
            "give --reason CODE (as `earlylink quarantine list` shows) or --all"
        )
    settings = get_settings()
    rows = quarantined(settings.database_dsn, reason)
    if dry_run:
        console.print(f"would replay {len(rows):,} message(s)")
        return
    done = send_again(settings, rows)
    console.print(f"replayed {done.sent:,} message(s)")
    if done.failed:
        console.print(
            f"[red]{done.failed:,} not acknowledged by Kafka[/]: still set aside; run again"
        )
        raise typer.Exit(1)
