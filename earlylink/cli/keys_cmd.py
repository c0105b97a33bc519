"""``earlylink keys create | show``: the pseudonymisation master secrets."""

from __future__ import annotations

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
        console.print("rotation: see docs/pseudonymisation.md before activating it")


@keys_app.command()
def show() -> None:
    """The active key version and a public fingerprint (never the secret)."""
    from stream_processors.pseudonymise.keyfiles import load_keyring

    ring = load_keyring(get_settings())
    console.print(
        f"versions: {sorted(ring.secrets)}; active: {ring.active}; "
        f"fingerprint: {ring.fingerprint()}"
    )
