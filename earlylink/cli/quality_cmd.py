"""``earlylink dq`` and ``earlylink reconcile``: data quality and nothing-lost accounting."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.settings import get_settings

console = Console()
SHORT = {
    "nhs_number": "nhs",
    "unique_pupil_number": "upn",
    "given_names": "given",
    "family_name": "family",
    "date_of_birth": "dob",
    "postcode": "pc",
    "address_line": "addr",
    "locality": "town",
}


def dq(
    window: Annotated[str, typer.Option(help="hour, day, week or month")] = "day",
) -> None:
    """Data quality per service and window: received, valid, rejected and field issues by
    reason, completeness of identifying fields, timeliness and volume against usual."""
    from sink.quality import WINDOWS, quality

    if window not in WINDOWS:
        raise typer.BadParameter(f"window must be one of {sorted(WINDOWS)}")
    table = Table(title=f"data quality per source ({window})")
    for column in (
        "source",
        "window",
        "received",
        "valid",
        "suppr.",
        "rejected",
        "field issues",
        "completeness",
        "translit.",
        "delay p50",
        "volume",
    ):
        table.add_column(column)
    for row in quality(get_settings().database_dsn, window):
        table.add_row(
            row.source_system,
            row.window[:16],
            f"{row.received:,}",
            f"{row.valid:,}",
            f"{row.suppressed:,}",
            _codes(row.rejected),
            _codes(row.field_issues),
            " ".join(f"{SHORT[k]}:{v:.0%}" for k, v in row.completeness.items()),
            f"{row.transliterated:,}",
            _duration(row.median_delay_s),
            f"{row.volume_ratio:.2f}x" if row.volume_ratio is not None else "-",
        )
    console.print(table)


def reconcile() -> None:
    """Per source: received = pseudonymised + consent-suppressed + dead-lettered + quarantined."""
    from sink.offsets import committed_offsets
    from sink.quality import ledger_count
    from sink.quality import reconcile as figures
    from stream_processors.lag import end_offsets

    settings = get_settings()
    rows = figures(settings.database_dsn)
    table = Table(title="reconciliation per source")
    columns = ("source", "received", "pseudonymised", "suppressed", "dead-lettered", "quarantined")
    for column in (*columns, "adds up", "of which replays", "letters since replayed"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r.source_system,
            f"{r.received:,}",
            f"{r.pseudonymised:,}",
            f"{r.suppressed:,}",
            f"{r.dead_lettered:,}",
            f"{r.quarantined:,}",
            "yes" if r.balanced else "NO",
            f"{r.replays:,}",
            f"{r.letters_replayed:,}",
        )
    console.print(table)
    if any(r.quarantined for r in rows):
        console.print(
            "quarantined: the resolver's by position and reason in `earlylink quarantine list`"
            " (replay once mended), the pseudonymiser's on the dead-letter topic"
            " (`earlylink deadletter list`)"
        )
    raw = settings.kafka.topic("raw")
    group = settings.kafka.group("pseudonymise")
    consumed = sum(committed_offsets(settings.database_dsn, group, raw).values())
    in_topic = sum(end_offsets(settings.kafka, raw).values())
    ledger = ledger_count(settings.database_dsn, raw)
    console.print(
        f"raw topic: {in_topic:,} messages; consumed: {consumed:,}; "
        f"ledger rows: {ledger:,}; not yet consumed: {in_topic - consumed:,}"
    )
    if consumed > in_topic:
        console.print(
            "[red]the stored offsets are past the raw topic's end: the topic was made again or"
            " truncated after they were stored (messages there now would be skipped)[/]"
        )
        raise typer.Exit(1)
    if ledger != consumed or not all(r.balanced for r in rows):
        console.print("[red]reconciliation does NOT add up[/]")
        raise typer.Exit(1)
    console.print("[green]every consumed message is accounted for exactly once[/]")


def _codes(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}={v:,}" for k, v in sorted(counts.items(), key=lambda x: -x[1])) or "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.0f}d"
