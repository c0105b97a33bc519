"""The key versions the store links under: one, or two while the keys rotate.

``earlylink keys rotate`` (``earlylink/rotation.py``) moves a deployment from key version n to
n+1 while the stream runs, through this state (a row of ``resolver_state``):

1. ``working=n, next=n+1``: the pseudonymiser makes every token and encoding under both
   versions (and says so: ``CONFIRMED``); the resolver still links under n and keeps the n+1
   tokens in the records it stores; the rotation job adds n+1 tokens to the stored records by
   chaining (no raw data).
2. ``working=n+1``: switched under the graph lock once every stored record carries n+1; the
   blocking index rebuilt from the n+1 tokens in the same transaction. The resolver links
   under n+1 and drops n tokens from what it stores; the job strips them from stored records.

A token chain is a bijection, so every pair compares the same under either version and the
partition does not move (``tests/integration/test_rotation.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.errors import ConfigurationError
from sink import graph

STATE = "key_versions"
CONFIRMED = "pseudonymiser_key_versions"  # the versions the pseudonymiser's batches now use


@dataclass(frozen=True)
class KeyVersions:
    working: int = 1
    next: int | None = None

    @property
    def made(self) -> tuple[int, ...]:
        """The versions tokens and encodings are made under, the working one first."""
        return (self.working,) if self.next is None else (self.working, self.next)

    def text(self) -> str:
        return json.dumps({"working": self.working, "next": self.next})

    @classmethod
    def parse(cls, text: str | None) -> KeyVersions:
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(int(data["working"]), None if data["next"] is None else int(data["next"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"the stored key versions are unreadable: {text!r}") from exc


def working(dsn: str) -> int:
    """The key version the store links under now (for commands that read stored records)."""
    return KeyVersions.parse(graph.stored_state(dsn, STATE)).working


async def read(conn: graph.Conn) -> KeyVersions:
    return KeyVersions.parse(await graph.state(conn, STATE))


async def write(conn: graph.Conn, versions: KeyVersions) -> None:
    await graph.set_state(conn, STATE, versions.text())


def made_text(versions: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in versions)
