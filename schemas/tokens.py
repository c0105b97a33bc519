"""The tokens of a PseudoRecord, whichever contract version wrote it.

Up to v3 each token is a record of its own (kind, value, key version); from v4 on the tokens
made under one key version are one ``TokenSet``, kinds and values side by side (fastavro
writes a record in about half the time, and reads it in two thirds). A v4 reader still fills
``tokens`` from a record written before, so code that reads tokens goes through
``token_entries`` and code that writes them through ``with_tokens``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

TokenEntry = tuple[str, bytes, int]  # kind, token, key version


def token_entries(record: dict[str, Any]) -> Iterator[TokenEntry]:
    """A decoded PseudoRecord's tokens, whichever version wrote it: from v4 on a set per key
    version (``token_sets``), before that one record each (``tokens``, which a v4 reader
    still fills from an older record)."""
    for group in record.get("token_sets", ()):
        version = group["key_version"]
        for kind, value in zip(group["kinds"], group["values"], strict=True):
            yield kind, value, version
    for token in record.get("tokens", ()):
        yield token["kind"], token["value"], token["key_version"]


def token_versions(record: dict[str, Any]) -> set[int]:
    """The key versions the record has tokens under (those of ``token_entries``, without
    reading each token: asked of every person record the resolver takes)."""
    found = {g["key_version"] for g in record.get("token_sets", ()) if g["kinds"] and g["values"]}
    return found | {t["key_version"] for t in record.get("tokens", ())}


def tokens_under(record: dict[str, Any], version: int) -> list[tuple[str, bytes]]:
    """(kind, token) of the record's tokens made under key ``version``, whichever version
    wrote it (``token_entries`` for one key version, as a list: read for every record the
    resolver decodes)."""
    found = [
        pair
        for group in record.get("token_sets", ())
        if group["key_version"] == version
        for pair in zip(group["kinds"], group["values"], strict=True)
    ]
    found += [
        (t["kind"], t["value"]) for t in record.get("tokens", ()) if t["key_version"] == version
    ]
    return found


def token_sets(entries: Iterable[TokenEntry]) -> list[dict[str, Any]]:
    """Avro ``TokenSet`` records (PseudoRecord v4) for ``entries``: one per key version, in
    the order the versions first come, each keeping its tokens' order."""
    sets: dict[int, dict[str, Any]] = {}
    for kind, value, version in entries:
        group = sets.setdefault(version, {"key_version": version, "kinds": [], "values": []})
        group["kinds"].append(kind)
        group["values"].append(value)
    return list(sets.values())


def with_tokens(record: dict[str, Any], entries: Iterable[TokenEntry]) -> dict[str, Any]:
    """``record`` carrying ``entries`` as its tokens, in the newest contract's shape."""
    return {**record, "tokens": [], "token_sets": token_sets(entries)}


def uneven_sets(record: dict[str, Any]) -> bool:
    """Whether a set of the record's tokens has more kinds than values or fewer (a writer
    that does not follow the contract: such a record cannot be read)."""
    return any(len(g["kinds"]) != len(g["values"]) for g in record.get("token_sets", ()))
