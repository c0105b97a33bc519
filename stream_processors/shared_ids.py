"""Token kinds for shared local identifiers, one vocabulary for the pseudonymiser and the
resolver.

A value of scheme ``s`` is tokenised as ``uid:s`` when the scheme is unique per person (two
different values then mean two people) and ``sid:s`` when it is not (the resolver's
``shared_ids`` blocking rule keys both; records pseudonymised before that also hold
``b_uid:s`` / ``b_sid:s`` tokens, kept as read), and ``near:sid:s`` the tokens of its
one-edit variants (the value with one character deleted, and the value itself: two values
one substitution, insertion, deletion or adjacent transposition apart share at least one), so
nearness is seen without the value.
Each kind has its own key, so a token of one scheme never equals another scheme's.
"""

from __future__ import annotations

UNIQUE, NOT_UNIQUE = "uid", "sid"
NEAR = "near:"
BLOCK = "b_"
PREFIXES = (f"{UNIQUE}:", f"{NOT_UNIQUE}:")


def value_kind(scheme: str, unique: bool) -> str:
    return f"{UNIQUE if unique else NOT_UNIQUE}:{scheme}"


def near_kind(scheme: str, unique: bool) -> str:
    return NEAR + value_kind(scheme, unique)


def block_kind(scheme: str, unique: bool) -> str:
    return BLOCK + value_kind(scheme, unique)


def is_value_kind(kind: str) -> bool:
    return kind.startswith(PREFIXES)


def is_unique_kind(kind: str) -> bool:
    return kind.startswith(f"{UNIQUE}:")


def is_shared_id_kind(kind: str) -> bool:
    """Any kind this module makes (all are multi-valued: a record may hold several values)."""
    return kind.startswith((*PREFIXES, NEAR, BLOCK + UNIQUE, BLOCK + NOT_UNIQUE))


def one_edit_variants(value: str) -> set[str]:
    """The value and each way of deleting one character from it."""
    return {value, *(value[:i] + value[i + 1 :] for i in range(len(value)))}
