"""The key versions the store links under: one, or two while the keys rotate.

``earlylink keys rotate`` (``earlylink/rotation.py``) moves a deployment from key version n to
n+1 while the stream runs, through this state (a row of ``resolver_state``):

1. ``working=n, next=n+1``: the pseudonymiser makes every token and encoding under both
   versions (and records so, in ``key_versions_confirmed``: ``sink/key_state.py``); the
   resolver still links under n and keeps the n+1 tokens in the records it stores; the
   rotation job adds n+1 tokens to the stored records by chaining (no raw data).
2. ``working=n+1, retired=n``: switched under the graph lock once every stored record carries
   n+1; the blocking index rebuilt from the n+1 tokens in the same transaction. The resolver
   links under n+1 and drops n tokens from what it stores; the job strips them from stored
   records, then clears ``retired``.

A token chain is a bijection, so every pair compares the same under either version and the
partition does not move (``tests/integration/test_rotation.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.errors import ConfigurationError
from sink import graph, key_state

STATE = "key_versions"  # the resolver_state row (read through the view of the same name)
PSEUDONYMISER = "pseudonymise"  # who confirms the versions its batches use


@dataclass(frozen=True)
class KeyVersions:
    working: int = 1
    next: int | None = None
    retired: int | None = None  # after a switch: still in stored records until they are cleaned

    @property
    def made(self) -> tuple[int, ...]:
        """The versions tokens and encodings are made under, the working one first."""
        return (self.working,) if self.next is None else (self.working, self.next)

    def text(self) -> str:
        return json.dumps({"working": self.working, "next": self.next, "retired": self.retired})

    @classmethod
    def parse(cls, text: str | None) -> KeyVersions:
        if not text:
            return cls()
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(int(data["working"]), _number(data, "next"), _number(data, "retired"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"the stored key versions are unreadable: {text!r}") from exc


def working(dsn: str) -> int:
    """The key version the store links under now (for commands that read stored records)."""
    return KeyVersions.parse(graph.stored_state(dsn, STATE)).working


def _number(data: dict[str, Any], name: str) -> int | None:
    return None if data.get(name) is None else int(data[name])


async def read(conn: graph.Conn) -> KeyVersions:
    return KeyVersions.parse(await key_state.stored_key_versions(conn))


async def write(conn: graph.Conn, versions: KeyVersions) -> None:
    await graph.set_state(conn, STATE, versions.text())


def made_text(versions: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in versions)
