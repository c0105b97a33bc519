"""Making a database ready for earlylink: the migrations, then the login roles' passwords."""

from __future__ import annotations

from core.credentials import LOGINS, secrets_folder
from core.errors import ConfigurationError
from core.settings import Settings
from sink.logins import set_passwords
from sink.migrate import migrate


def prepare_database(settings: Settings) -> tuple[list[str], list[str]]:
    """Apply the migrations and set every login's password the settings give (or, for the
    embedded server, generate); returns (migrations applied, logins left without a password)."""
    dsn = settings.database_dsn
    applied = migrate(dsn)
    folder = secrets_folder(settings.paths.state_dir)
    passwords, missing = {}, []
    for login, role in LOGINS.items():
        try:
            passwords[role] = settings.database.login_password(login, folder)
        except ConfigurationError:
            missing.append(login)
    set_passwords(dsn, passwords)
    return applied, missing
