"""The schema catalogue: every version of every event contract, parsed and fingerprinted.

Consumers resolve a message's writer schema by its fingerprint (single-object encoding) and read
it with the newest version of the same event type, so old and new producers interoperate.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from core.errors import ContractError

NAMESPACE = "org.earlylink.events"
VERSIONED = re.compile(r"^([A-Za-z]+)\.v(\d+)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One version of one event type's contract."""

    event_type: str
    version: int
    definition: dict[str, Any]
    parsed: Any
    canonical: str
    fingerprint: bytes

    @property
    def subject(self) -> str:
        """Name under a Confluent-API registry (record-name strategy)."""
        return f"{NAMESPACE}.{self.event_type}"


def _inline_shared(node: Any, shared: dict[str, dict[str, Any]], defined: set[str]) -> Any:
    """Replace the first reference to each shared named type by its definition."""
    if isinstance(node, str):
        full = node if "." in node else f"{NAMESPACE}.{node}"
        if full in shared and full not in defined:
            defined.add(full)
            return _inline_shared(copy.deepcopy(shared[full]), shared, defined)
        return node
    if isinstance(node, list):
        return [_inline_shared(item, shared, defined) for item in node]
    if isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed") and "name" in node:
            defined.add(f"{node.get('namespace', NAMESPACE)}.{node['name']}")
        return {
            key: _inline_shared(value, shared, defined)
            if key in ("type", "fields", "items", "values")
            else value
            for key, value in node.items()
        }
    return node


def _build(
    event_type: str, version: int, raw: dict[str, Any], shared: dict[str, dict[str, Any]]
) -> SchemaVersion:
    definition = _inline_shared(raw, shared, set())
    parsed = parse_schema(definition)
    canonical = to_parsing_canonical_form(parsed)
    digest = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    return SchemaVersion(event_type, version, definition, parsed, canonical, digest)


class Catalogue:
    """All contract versions, looked up by fingerprint or by (event type, version)."""

    def __init__(self, versions: list[SchemaVersion]) -> None:
        self._by_fingerprint = {v.fingerprint: v for v in versions}
        self._by_type: dict[str, dict[int, SchemaVersion]] = {}
        for v in versions:
            self._by_type.setdefault(v.event_type, {})[v.version] = v
        # asked for every event a stage reads or writes: looked up, not sorted each time
        self._latest = {t: by[max(by)] for t, by in self._by_type.items()}

    @property
    def event_types(self) -> list[str]:
        return sorted(self._by_type)

    def versions(self, event_type: str) -> list[SchemaVersion]:
        return [self._by_type[event_type][n] for n in sorted(self._by_type[event_type])]

    def latest(self, event_type: str) -> SchemaVersion:
        try:
            return self._latest[event_type]
        except KeyError:
            raise ContractError(f"unknown event type {event_type!r}") from None

    def get(self, event_type: str, version: int) -> SchemaVersion:
        try:
            return self._by_type[event_type][version]
        except KeyError as exc:
            raise ContractError(f"no contract {event_type} v{version}") from exc

    def by_fingerprint(self, digest: bytes) -> SchemaVersion | None:
        return self._by_fingerprint.get(digest)

    @property
    def digest(self) -> str:
        """One short hex digest of every contract version's fingerprint: two catalogues that
        read the same messages have the same (what a reader could not read, it still cannot)."""
        joined = b"".join(sorted(self._by_fingerprint))
        return hashlib.sha256(joined).hexdigest()[:16]


def load_from_files(files: dict[str, str]) -> Catalogue:
    """Build a catalogue from file name -> JSON text (the package's files, or a test's)."""
    shared: dict[str, dict[str, Any]] = {}
    versioned: list[tuple[str, int, dict[str, Any]]] = []
    for name, text in files.items():
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{name} is not valid JSON: {exc}") from exc
        match = VERSIONED.match(name)
        if match:
            versioned.append((match[1], int(match[2]), raw))
        elif name.endswith(".avsc"):
            shared[f"{raw.get('namespace', NAMESPACE)}.{raw['name']}"] = raw
    return Catalogue([_build(t, v, raw, shared) for t, v, raw in versioned])


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The contracts shipped in ``schemas/avro``."""
    folder = resources.files("schemas").joinpath("avro")
    files = {
        f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".avsc")
    }
    return load_from_files(files)
