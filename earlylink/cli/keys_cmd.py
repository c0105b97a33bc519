"""``earlylink keys create | show | rotate``: the pseudonymisation master secrets."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from core.settings import get_settings

keys_app = typer.Typer(
    help="Pseudonymisation master secrets (see docs/pseudonymisation.md).", no_args_is_help=True
)
console = Console()


@keys_app.command()
def create() -> None:
    """Create the next key version (random 256 bits, file mode 0600). Prints no secret."""
    from stream_processors.pseudonymise.keyfiles import create_key

    version, path = create_key(get_settings())
    console.print(f"created key version {version}: {path}")
    if version > 1:
        console.print(
            "nothing uses it until `earlylink keys rotate` moves the store to it"
            " (docs/pseudonymisation.md)"
        )


@keys_app.command()
def show() -> None:
    """The active key version and a public fingerprint (never the secret)."""
    from stream_processors.key_versions import working
    from stream_processors.pseudonymise.keyfiles import load_keyring

    settings = get_settings()
    ring = load_keyring(settings)
    console.print(
        f"versions: {sorted(ring.secrets)}; the store links under version"
        f" {working(settings.database_dsn)}; fingerprint of the newest: {ring.fingerprint()}"
    )


@keys_app.command()
def rotate(
    chunk: Annotated[int, typer.Option(help="Stored records re-keyed per transaction.")] = 2_000,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for each processor before stopping.")
    ] = 600.0,
) -> None:
    """Move the store to the next key version while the stream runs: the pseudonymiser makes
    both, stored tokens are re-keyed by chaining (no raw data), then the resolver switches and
    the old version is stripped. Resumable: run it again after an interruption."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from earlylink.rotation import Rotation

    rotation = Rotation(get_settings(), chunk, wait)
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress("{task.description}", *columns, console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def show(phase: str, done: int, total: int) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        report = asyncio.run(rotation.run(console.print, show))
    model = "; the model's term frequencies re-keyed" if report.model_rekeyed else ""
    console.print(
        f"rotated from key version {report.made_under} to {report.to}:"
        f" {report.carried:,} stored records re-keyed, {report.stripped:,} cleaned of version"
        f" {report.made_under}{model}"
    )
