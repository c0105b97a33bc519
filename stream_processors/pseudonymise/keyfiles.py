"""Master secrets on disk or in the environment, loaded into a Keyring. Never logged.

Sources, first found wins: ``EARLYLINK_PSEUDONYMISATION_SECRET`` (hex or base64, version 1),
``EARLYLINK_PSEUDONYMISATION_SECRET_FILE`` (version 1), else the key folder with one file per
version, ``master-v<N>.key`` (base64, mode 0600). Which versions tokens are made under is the
store's state (``stream_processors.key_versions``, moved by ``earlylink keys rotate``), not
which files exist: a new file changes nothing until the store is rotated to it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
import stat
from pathlib import Path

from core.errors import ConfigurationError
from core.settings import Settings
from stream_processors.pseudonymise.keys import Keyring

KEY_FILE = re.compile(r"^master-v(\d+)\.key$")


def _decode(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        return (
            bytes.fromhex(text)
            if re.fullmatch(r"[0-9a-fA-F]+", text)
            else base64.b64decode(text, validate=True)
        )
    except (ValueError, binascii.Error) as exc:
        raise ConfigurationError(f"the secret in {where} is neither hex nor base64") from exc


def key_files(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = KEY_FILE.match(path.name)
        if match:
            found[int(match[1])] = path
    return found


def private(path: Path) -> Path:
    """``path``, if only its owner can read or write it; else a clear error (never its text)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigurationError(f"cannot read the secret file {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"{path} is readable by others (mode {stat.filemode(mode)}): a master secret must be"
            f" the owner's alone; run `chmod 600 {path}`"
        )
    return path


def load_keyring(settings: Settings) -> Keyring:
    config = settings.pseudonymisation
    if config.secret is not None:
        return Keyring({1: _decode(config.secret.get_secret_value(), "the environment")}, 1)
    if config.secret_file is not None:
        try:
            text = private(config.secret_file).read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read the secret file: {exc}") from exc
        return Keyring({1: _decode(text, str(config.secret_file))}, 1)
    files = key_files(settings.key_dir)
    if not files:
        raise ConfigurationError(
            f"no pseudonymisation secret: run `earlylink keys create` (writes to "
            f"{settings.key_dir}) or set EARLYLINK_PSEUDONYMISATION_SECRET(_FILE)"
        )
    ring = {v: _decode(private(p).read_text(), p.name) for v, p in sorted(files.items())}
    return Keyring(ring, max(ring))


def create_key(settings: Settings) -> tuple[int, Path]:
    """Write the next version's random 256-bit secret (0600); return its version and path."""
    folder = settings.key_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    version = max(key_files(folder), default=0) + 1
    path = folder / f"master-v{version}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return version, path


def ensure_key(settings: Settings) -> bool:
    """Create a first key when no secret is configured at all; True if one was created."""
    config = settings.pseudonymisation
    if config.secret or config.secret_file or key_files(settings.key_dir):
        return False
    create_key(settings)
    return True
