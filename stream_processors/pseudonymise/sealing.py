"""Sealed dead letters: a dead letter's original key and bytes encrypted with AES-256-GCM under
a data key of its day, so the dead-letter topic holds no identifier in clear, and shredding a
day's data key (retention, erasure: ``earlylink deadletter purge``) makes that day's dead
letters unreadable for good, wherever copies of the topic went.

Data keys are random, one per UTC day, kept in their own folder wrapped (AES-GCM) under a key
derived from the master secret: the folder alone opens nothing, and the master secret alone
cannot rebuild a shredded day. The message's position travels as associated data, so a sealed
payload cannot be moved to another dead letter unnoticed.

Sealed value: ``ELDL1`` | day (``YYYY-MM-DD``) | 12-byte nonce | ciphertext of
(4-byte key length | key | value).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import ConfigurationError, ContractError
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.keys import Keyring

MAGIC = b"ELDL1"
DAY_LEN = 10
NONCE_LEN = 12
DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.key$")


class SealError(ContractError):
    """A sealed dead letter cannot be opened (its day's key shredded, or it was altered)."""


@dataclass(frozen=True)
class Opened:
    key: bytes | None
    value: bytes
    day: str


class DataKeys:
    """The days' data keys in ``folder``, wrapped under ``kek`` (32 bytes from the master)."""

    def __init__(self, folder: Path, kek: bytes) -> None:
        self.folder = folder
        self._wrap = AESGCM(kek)
        self._cache: dict[str, bytes] = {}

    def path(self, day: str) -> Path:
        return self.folder / f"{day}.key"

    def for_day(self, day: str, create: bool) -> bytes | None:
        """The day's data key; made (0600, never overwritten) when missing and ``create``."""
        if day in self._cache:
            return self._cache[day]
        path = self.path(day)
        if not path.exists():
            if not create:
                return None
            self._create(path)
        raw = base64.b64decode(path.read_bytes())
        try:
            key = self._wrap.decrypt(raw[:NONCE_LEN], raw[NONCE_LEN:], day.encode())
        except InvalidTag as exc:
            raise ConfigurationError(
                f"the dead-letter key of {day} does not open with this master secret"
            ) from exc
        self._cache[day] = key
        return key

    def _create(self, path: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        nonce = os.urandom(NONCE_LEN)
        wrapped = nonce + self._wrap.encrypt(nonce, AESGCM.generate_key(256), path.stem.encode())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(wrapped))

    def days(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(m[1] for p in self.folder.iterdir() if (m := DAY_FILE.match(p.name)))

    def shred(self, before: dt.date) -> list[str]:
        """Delete the data keys of every day before ``before``; the days shredded."""
        gone = [d for d in self.days() if dt.date.fromisoformat(d) < before]
        for day in gone:
            self.path(day).unlink(missing_ok=True)
            self._cache.pop(day, None)
        return gone


def data_keys(base: Path, keyring: Keyring) -> DataKeys:
    """The data keys of ``keyring``'s master secret: a folder per master (named by a digest of
    its wrapping key), so two deployments or test runs sharing ``base`` never mix keys."""
    kek = keyring.deadletter_kek()
    return DataKeys(base / hashlib.sha256(kek).hexdigest()[:16], kek)


def position_of(message: RawMessage) -> str:
    """Where a dead letter came from (its associated data): topic:partition:offset."""
    return f"{message.topic}:{message.partition}:{message.offset}"


def seal(keys: DataKeys, key: bytes | None, value: bytes, position: str, day: str) -> bytes:
    """The dead letter's key and value, sealed under ``day``'s data key."""
    data_key = keys.for_day(day, create=True)
    assert data_key is not None
    nonce = os.urandom(NONCE_LEN)
    plain = len(key or b"").to_bytes(4, "big") + (key or b"") + value
    sealed = AESGCM(data_key).encrypt(nonce, plain, position.encode())
    return MAGIC + day.encode() + nonce + sealed


def is_sealed(value: bytes) -> bool:
    return value.startswith(MAGIC)


def sealed_day(value: bytes) -> str:
    return value[len(MAGIC) : len(MAGIC) + DAY_LEN].decode()


def open_sealed(keys: DataKeys, value: bytes, position: str) -> Opened:
    """The original key and value of a sealed dead letter (SealError when it cannot be)."""
    if not is_sealed(value):
        raise SealError("not a sealed dead letter")
    day = sealed_day(value)
    data_key = keys.for_day(day, create=False)
    if data_key is None:
        raise SealError(f"the data key of {day} has been shredded: this dead letter is gone")
    start = len(MAGIC) + DAY_LEN
    nonce, body = value[start : start + NONCE_LEN], value[start + NONCE_LEN :]
    try:
        plain = AESGCM(data_key).decrypt(nonce, body, position.encode())
    except InvalidTag as exc:
        raise SealError("the dead letter was altered or moved (authentication failed)") from exc
    length = int.from_bytes(plain[:4], "big")
    key = plain[4 : 4 + length] or None
    return Opened(key, plain[4 + length :], day)
