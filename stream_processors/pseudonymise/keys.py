"""Token keys: per-field keys derived (HKDF-SHA256) from versioned master secrets.

A token under key version n is a chain: ``t1 = HMAC(K1[field], value)``,
``tn = HMAC(Kn[field], t(n-1))``. Rotating to version n+1 therefore needs no raw data: the
stored tokens are re-keyed in place with ``HMAC(K(n+1)[field], tn)``, and the identity graph
(persons, edges) is untouched. A leaked old secret alone cannot reproduce current tokens.
Bloom-filter encodings use keys from the first secret (they cannot be re-keyed without raw data;
see docs/pseudonymisation.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.errors import ConfigurationError

TOKEN_BYTES = 16  # 128-bit tokens: collision-free at national scale, half the storage of 256
SALT = b"earlylink/pseudonymisation/v1"
MIN_SECRET_BYTES = 32


def derive(secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose (field), derived from a master secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=purpose.encode()).derive(
        secret
    )


def mac(key: bytes, data: bytes) -> bytes:
    h = hmac.HMAC(key, hashes.SHA256())
    h.update(data)
    return h.finalize()


@dataclass(frozen=True)
class Keyring:
    """Master secrets by version; ``active`` is the version new tokens are made with."""

    secrets: dict[int, bytes] = field(repr=False)
    active: int

    _cache: dict[tuple[str, str, int], bytes] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not self.secrets:
            raise ConfigurationError("no pseudonymisation secret is configured")
        if sorted(self.secrets) != list(range(1, max(self.secrets) + 1)):
            raise ConfigurationError("key versions must run 1..n without gaps")
        if self.active not in self.secrets:
            raise ConfigurationError(f"active key version {self.active} has no secret")
        if any(len(s) < MIN_SECRET_BYTES for s in self.secrets.values()):
            raise ConfigurationError(f"secrets must be at least {MIN_SECRET_BYTES} bytes")

    def _derived(self, purpose: str, kind: str, version: int) -> bytes:
        cached = self._cache.get((purpose, kind, version))
        if cached is None:
            cached = derive(self.secrets[version], f"{purpose}/{kind}/v{version}")
            self._cache[(purpose, kind, version)] = cached
        return cached

    def field_key(self, kind: str, version: int) -> bytes:
        return self._derived("token", kind, version)

    def token(self, kind: str, value: str) -> bytes:
        """The keyed token of ``value`` for field ``kind`` under the active version."""
        digest = value.encode()
        for version in range(1, self.active + 1):  # truncate each link so stores can re-key
            digest = mac(self.field_key(kind, version), digest)[:TOKEN_BYTES]
        return digest

    def rekey(self, kind: str, token_under_previous: bytes) -> bytes:
        """Carry a token made under ``active - 1`` forward to ``active`` (rotation job)."""
        return mac(self.field_key(kind, self.active), token_under_previous)[:TOKEN_BYTES]

    def encoding_key(self, kind: str) -> bytes:
        return self._derived("bloom", kind, 1)

    def deadletter_kek(self) -> bytes:
        """The key that wraps the dead letters' data keys (``sealing.DataKeys``)."""
        return self._derived("deadletter", "kek", 1)

    def fingerprint(self) -> str:
        """A public fingerprint of the active secret (safe to print; reveals nothing)."""
        return hashlib.sha256(derive(self.secrets[self.active], "fingerprint")).hexdigest()[:16]
