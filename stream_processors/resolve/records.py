"""The resolver's view of one pseudonymised person record."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from schemas.tokens import token_entries, token_versions, tokens_under, with_tokens
from stream_processors import shared_ids as idkinds


@dataclass(frozen=True)
class LinkRecord:
    """Tokens (by kind) and encodings of one source record; no raw value anywhere."""

    record_key: str
    source_system: str
    role: str
    sex: str
    tokens: dict[str, bytes] = field(default_factory=dict)
    multi: dict[str, frozenset[bytes]] = field(default_factory=dict)  # e.g. former names
    encodings: dict[str, bytes] = field(default_factory=dict)
    # what a model worked out of this record alone, kept while the record is (in the resolver's
    # cache it meets many others over many batches): the model's own key -> its value
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_child(self) -> bool:
        return self.role == "CHILD"

    def get(self, kind: str) -> bytes | None:
        return self.tokens.get(kind)

    @cached_property
    def shared_ids(self) -> dict[str, frozenset[bytes]]:
        """Shared local identifier tokens by kind (``uid:<scheme>`` / ``sid:<scheme>``)."""
        return {k: v for k, v in self.multi.items() if idkinds.is_value_kind(k)}

    def near_ids(self, kind: str) -> frozenset[bytes]:
        return self.multi.get(idkinds.NEAR + kind, frozenset())


# b_former_dob (and the other b_* kinds) only on records pseudonymised before blocking keys
# came from the linkage configuration (``blocking``): kept as read, never used
MULTI_KINDS = frozenset({"fname_alt", "b_former_dob", "dob_near", "given_near", "family_near"})


@lru_cache(maxsize=1024)  # kinds are a short list; bounded, as a foreign writer's are not
def _many(kind: str) -> bool:
    """Whether a record may hold several tokens of ``kind`` (asked per token)."""
    return kind in MULTI_KINDS or idkinds.is_shared_id_kind(kind)


def from_pseudo(record: dict[str, Any], version: int = 1) -> LinkRecord:
    """A LinkRecord from a decoded PseudoRecord: its tokens and encodings under key
    ``version`` (while keys rotate a record carries two)."""
    tokens: dict[str, bytes] = {}
    multi: dict[str, set[bytes]] = {}
    for kind, value in tokens_under(record, version):
        if _many(kind):
            multi.setdefault(kind, set()).add(value)
        else:
            tokens[kind] = value
    return LinkRecord(
        record_key=record["record_key"],
        source_system=record["envelope"]["source_system"],
        role=record["role"],
        sex=record["sex"],
        tokens=tokens,
        multi={k: frozenset(v) for k, v in multi.items()},
        encodings={
            e["kind"]: e["bits"]
            for e in record["encodings"]
            if e.get("key_version", 1) == version  # before PseudoRecord v3: version 1
        },
    )


def key_versions_of(record: dict[str, Any]) -> set[int]:
    """The key versions a PseudoRecord's tokens and encodings were made under."""
    return token_versions(record) | {e.get("key_version", 1) for e in record["encodings"]}


def keeping_versions(record: dict[str, Any], versions: tuple[int, ...]) -> dict[str, Any]:
    """The record with only the tokens and encodings made under ``versions``."""
    kept = (e for e in token_entries(record) if e[2] in versions)
    return {
        **with_tokens(record, kept),
        "key_version": versions[0],
        "encodings": [
            {**e, "key_version": e.get("key_version", 1)}
            for e in record["encodings"]
            if e.get("key_version", 1) in versions
        ],
    }
