"""``earlylink db migrate`` and ``earlylink topics ensure``: schema and topics, repeatable."""

from __future__ import annotations

import typer
from rich.console import Console

from core.settings import get_settings

db_app = typer.Typer(help="The PostgreSQL schema.", no_args_is_help=True)
topics_app = typer.Typer(help="earlylink's Kafka topics.", no_args_is_help=True)
console = Console()


@db_app.command()
def migrate() -> None:
    """Apply the numbered migrations not yet applied, and set the login roles' passwords
    from the settings (safe to repeat)."""
    from earlylink.database import prepare_database

    applied, missing = prepare_database(get_settings())
    console.print(
        f"applied {len(applied)} migration(s)"
        + (": " + ", ".join(applied) if applied else " (up to date)")
    )
    for login in missing:
        console.print(
            f"[yellow]no password for the {login} login: set"
            f" EARLYLINK_DATABASE_{login.upper()}_PASSWORD (it cannot connect until then)[/]"
        )


@topics_app.command()
def ensure() -> None:
    """Create earlylink's topics that do not exist yet."""
    from earlylink.topics import ensure_topics

    created = ensure_topics(get_settings().kafka)
    console.print(
        f"created {len(created)} topic(s)"
        + (": " + ", ".join(created) if created else " (all present)")
    )
