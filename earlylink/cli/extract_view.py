"""How ``earlylink produce extract`` shows a profile and an import: counts, reasons, line
numbers and column names only, never a value from the file."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from producers.extract import ImportResult, Profile
from producers.extract.profile import Lines

console = Console()
SHOWN_LINES = 12
SHOWN_WARNINGS = 50


def _share(count: int, total: int) -> str:
    return f"{count:,} ({count / total:.1%})" if total else f"{count:,}"


def _lines(found: Lines) -> str:
    shown = ", ".join(str(n) for n in found.lines[:SHOWN_LINES])
    more = found.count - min(len(found.lines), SHOWN_LINES)
    return shown + (f" ... and {more:,} more" if more > 0 else "")


def _fields_table(profile: Profile) -> Table:
    table = Table(title="per contract field (rows mapped)")
    for column in ("field", "filled", "empty", "left out of linkage, by reason"):
        table.add_column(column, justify="left" if column in ("field",) else "right")
    for name, counts in profile.fields.items():
        reasons = ", ".join(f"{code} {n:,}" for code, n in counts.left_out.most_common())
        table.add_row(
            name,
            _share(counts.filled, profile.mapped),
            _share(counts.empty, profile.mapped),
            reasons or "-",
        )
    return table


def _reasons_table(title: str, found: dict[str, Lines]) -> Table:
    table = Table(title=title)
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("lines")
    for reason, lines in sorted(found.items(), key=lambda kv: -kv[1].count):
        table.add_row(reason, f"{lines.count:,}", _lines(lines))
    return table


def show_profile(profile: Profile, name: str) -> None:
    """The --check report."""
    rows = profile.rows
    linked = profile.mapped - profile.dead_lettered - profile.suppressed
    console.print(
        f"[bold]{name}[/]: {rows:,} rows; mapped {_share(profile.mapped, rows)}, "
        f"rejected {_share(profile.rejected_rows, rows)}. Of the mapped: "
        f"{linked:,} for linkage, {profile.suppressed:,} consent-suppressed, "
        f"{profile.dead_lettered:,} bound for the dead-letter topic.",
        highlight=False,
    )
    console.print(_fields_table(profile))
    if profile.rejected:
        console.print(_reasons_table("rows rejected (not published)", profile.rejected))
    if profile.dead_letter:
        console.print(
            _reasons_table("rows the pseudonymiser will dead-letter", profile.dead_letter)
        )
    ids = Table(title="identifiers (rows for linkage holding each)")
    ids.add_column("kind")
    ids.add_column("rows", justify="right")
    for kind, count in sorted(profile.identifiers.items()):
        ids.add_row(kind, _share(count, max(linked, 0)))
    console.print(ids)
    console.print(
        f"names transliterated from another script: {profile.transliterated:,}; "
        f"rows repeating an earlier row's record id and version: {profile.repeated_ids:,}",
        highlight=False,
    )
    unused = ", ".join(profile.unused_columns) or "none"
    console.print(f"columns the mapping does not use: {unused}", highlight=False)
    for note in profile.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print("[green]check only: nothing was published[/]")


def show_import(result: ImportResult) -> None:
    """What an import did, rejected rows and left-out fields by line."""
    for kind, problems in (("rejected", result.rejected), ("warning", result.field_warnings)):
        for problem in problems[:SHOWN_WARNINGS]:
            console.print(
                f"[yellow]{kind}[/] line {problem.line}: {problem.reason}", highlight=False
            )
        if len(problems) > SHOWN_WARNINGS:
            console.print(f"... and {len(problems) - SHOWN_WARNINGS:,} more ({kind})")
    unused = ", ".join(result.profile.unused_columns) or "none"
    console.print(f"columns the mapping does not use: {unused}", highlight=False)
    for note in result.profile.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(
        f"rows read: {result.rows:,}; mapped: {result.mapped:,}; "
        f"rejected: {len(result.rejected):,}; "
        f"fields left out: {len(result.field_warnings):,}",
        highlight=False,
    )
