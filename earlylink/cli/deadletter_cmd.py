"""``earlylink deadletter list | show | replay | purge``: the dead-letter topic, sealed."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import ConfigurationError
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from earlylink.deadletters import Letter

deadletter_app = typer.Typer(
    help="Dead letters: list by reason, show (identifiers redacted), replay, purge (shred keys).",
    no_args_is_help=True,
)
console = Console()


@deadletter_app.command("list")
def list_letters(
    reason: Annotated[str | None, typer.Option(help="Only letters with this reason.")] = None,
    limit: Annotated[int, typer.Option(help="Most rows to show (0 = all).")] = 50,
) -> None:
    """Every dead letter: where it is, when, why, where it came from, and whether it is sealed."""
    from earlylink.deadletters import letters

    table = Table(title="dead letters")
    for column in ("letter", "when", "reason", "detail", "from", "payload"):
        table.add_column(column)
    shown = 0
    for letter in letters(get_settings()):
        if reason and letter.headers.get("reason") != reason:
            continue
        if limit and shown >= limit:
            break
        when = letter.timestamp.strftime("%Y-%m-%d %H:%M") if letter.timestamp else "-"
        table.add_row(
            f"{letter.partition}:{letter.offset}",
            when,
            letter.headers.get("reason", "?"),
            letter.headers.get("detail", ""),
            letter.where,
            letter.state,
        )
        shown += 1
    console.print(table)


def _find(settings: Settings, letter_id: str) -> Letter:
    from earlylink.deadletters import letters

    partition, _, offset = letter_id.partition(":")
    if not (partition.isdigit() and offset.isdigit()):
        raise typer.BadParameter(f"a letter is PARTITION:OFFSET as `list` shows, not {letter_id!r}")
    for letter in letters(settings):
        if (letter.partition, letter.offset) == (int(partition), int(offset)):
            return letter
    raise ConfigurationError(f"no dead letter {letter_id} (past retention, or never written)")


@deadletter_app.command()
def show(
    letter_id: Annotated[str, typer.Argument(help="PARTITION:OFFSET, as `list` shows.")],
) -> None:
    """One dead letter opened, every identifying value redacted (only codes and states show)."""
    from earlylink.deadletters import keys_of, opened, redacted

    settings = get_settings()
    letter = _find(settings, letter_id)
    content = opened(keys_of(settings), letter)
    console.print(
        json.dumps(
            {"headers": letter.headers, "event": redacted(settings, content.value)},
            indent=2,
            default=str,
        ),
        highlight=False,
        markup=False,
    )


@deadletter_app.command()
def replay(
    reason: Annotated[str | None, typer.Option(help="Replay the letters with this reason.")] = None,
    letter_id: Annotated[str | None, typer.Option("--letter", help="Replay one letter.")] = None,
) -> None:
    """Publish dead letters again to the topic they came from, once their producer (or the
    register of sources) is fixed. The pseudonymiser treats each as a new message."""
    from earlylink.deadletters import keys_of, letters, opened
    from earlylink.deadletters import replay as publish_again
    from stream_processors.pseudonymise.sealing import SealError

    if (reason is None) == (letter_id is None):
        raise typer.BadParameter("give --reason R or --letter PARTITION:OFFSET")
    settings = get_settings()
    keys = keys_of(settings)
    chosen = (
        [_find(settings, letter_id)]
        if letter_id
        else [letter for letter in letters(settings) if letter.headers.get("reason") == reason]
    )
    ready, skipped = [], 0
    for letter in chosen:
        try:
            ready.append((letter, opened(keys, letter)))
        except SealError:
            skipped += 1
    sent = publish_again(settings, ready)
    console.print(f"replayed {sent} dead letter(s); {skipped} could not be (withheld or shredded)")


@deadletter_app.command()
def purge(
    before: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Shred every day before this date.")
    ],
) -> None:
    """Shred the data keys of the days before BEFORE: their dead letters can never be opened
    again, wherever copies of the topic went (the topic's retention removes the bytes)."""
    from earlylink.deadletters import keys_of

    gone = keys_of(get_settings()).shred(before.date())
    console.print(f"shredded the dead-letter keys of {len(gone)} day(s): {', '.join(gone) or '-'}")
