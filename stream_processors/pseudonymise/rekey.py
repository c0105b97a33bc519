"""Carrying a pseudonymised record to the next key version without raw data (pure).

A token chain link and a Bloom-filter permutation need only the previous version's token or
encoding and the new version's key (``keys.Keyring.lift``, ``bloom.Encoder.lift``), so the
store is re-keyed in place (``earlylink keys rotate``); nobody decodes anything back.
"""

from __future__ import annotations

from typing import Any

from schemas.tokens import token_entries, with_tokens
from stream_processors.pseudonymise.bloom import ENCODING_KEYS, Encoder
from stream_processors.pseudonymise.tokens import SHARED_KEYS
from stream_processors.resolve.records import key_versions_of

Record = dict[str, Any]  # a decoded PseudoRecord


def carries(record: Record, version: int) -> bool:
    """Whether the record has its tokens and encodings under ``version`` too (a record with
    none at all carries every version)."""
    made = key_versions_of(record)
    return not made or version in made


def lifted(record: Record, encoder: Encoder, made_under: int, to: int) -> Record:
    """The record with its ``made_under`` tokens and encodings also under ``to``."""
    lift = encoder.keyring.lift
    held = list(token_entries(record))
    tokens = [t for t in held if t[2] != to]
    tokens += [
        (kind, lift(SHARED_KEYS.get(kind, kind), value, made_under, to), to)
        for kind, value, version in held
        if version == made_under
    ]
    old = [{**e, "key_version": e.get("key_version", 1)} for e in record["encodings"]]
    encodings = [e for e in old if e["key_version"] != to]
    encodings += [
        {
            "kind": e["kind"],
            "bits": encoder.lift(ENCODING_KEYS[e["kind"]], e["bits"], made_under, to),
            "key_version": to,
        }
        for e in old
        if e["key_version"] == made_under
    ]
    return {**with_tokens(record, tokens), "encodings": encodings}


def lifted_frequencies(
    tf: dict[str, dict[str, float]], encoder: Encoder, made_under: int, to: int
) -> dict[str, dict[str, float]]:
    """A model's term-frequency tables (kind -> token hex -> share) with every token also under
    ``to``: a model holding both scores records of either version alike."""
    lift = encoder.keyring.lift
    return {
        kind: {
            **table,
            **{
                lift(SHARED_KEYS.get(kind, kind), bytes.fromhex(token), made_under, to).hex(): share
                for token, share in table.items()
            },
        }
        for kind, table in tf.items()
    }
