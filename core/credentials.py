"""Database logins: the owner (migrations, administration) and one login role per job, each
with only the grants it needs (``sink/migrations/0011_login_roles.sql``):

| login | what connects as it |
| --- | --- |
| ``earlylink_pseudonymise`` | the pseudonymiser (the ledger, its offsets, the register) |
| ``earlylink_resolve`` | the resolver (the graph; the audit log to append to, never change) |
| ``earlylink_analyst_login`` | ``earlylink query`` (aggregate views) |
| ``earlylink_researcher_login`` | ``earlylink query --researcher`` (row-level views too) |

Passwords come from the settings (``EARLYLINK_DATABASE_<LOGIN>_PASSWORD``, or a secrets
directory); for the embedded server, a missing one is generated once into the state folder
(0600). With a configured server (``EARLYLINK_DATABASE_URL``) a missing password is an error.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from core.errors import ConfigurationError

LOGINS = {
    "pseudonymise": "earlylink_pseudonymise",
    "resolve": "earlylink_resolve",
    "analyst": "earlylink_analyst_login",
    "researcher": "earlylink_researcher_login",
}
OWNER = "owner"


def secrets_folder(state_dir: Path) -> Path:
    return state_dir / "postgres" / "secrets"


def stored_password(folder: Path, name: str, generate: bool) -> str:
    """The password kept in ``folder/name``; made (random, 0600) when missing and ``generate``."""
    path = folder / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not generate:
        raise ConfigurationError(
            f"no password for the {name} database login: set"
            f" EARLYLINK_DATABASE_{name.upper()}_PASSWORD"
        )
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    value = secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
