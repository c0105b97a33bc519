"""Cannot-link constraints: why two records can never be one person.

Pure, on tokens and encodings only. Different values of an identifier unique per person (NHS
number, pupil number, a shared local scheme declared unique), a child and an adult, and
twins: children born the same day into one family whose given names are clearly two names,
however either source orders the name fields. Clustering keeps a person's records free of
any pair these forbid (``cluster``); scoring never sees such a pair as a link.
"""

from __future__ import annotations

from dataclasses import dataclass

from stream_processors import shared_ids as idkinds
from stream_processors.pseudonymise.bloom import dice
from stream_processors.resolve.model import TWIN_NAME_DICE
from stream_processors.resolve.records import LinkRecord

# a name of four letters has at most five one-edit variants (itself, four deletions): names
# that short and one letter changed are two names (Ava, Eva), longer ones a typo
SHORT_NAME_VARIANTS = 5


def cannot_link(a: LinkRecord, b: LinkRecord, twin_name_dice: float = TWIN_NAME_DICE) -> str | None:
    """Why two records can never be one person, or None.

    Different valid NHS numbers or pupil numbers, or no value in common in a shared identifier
    scheme that is unique per person; a child and an adult; twins (children with the
    same date of birth and family name but clearly different given names: not a short form of
    one another, not the same name phonetically, not one name typed wrong, and no NHS number
    in common).
    """
    if a.is_child != b.is_child:
        return "child_and_adult"
    for kind in ("nhs", "upn"):
        x, y = a.get(kind), b.get(kind)
        if x is not None and y is not None and x != y:
            return f"different_{kind}"
    if a.shared_ids and b.shared_ids:
        for kind, values in a.shared_ids.items():
            other = b.shared_ids.get(kind)
            if other is not None and idkinds.is_unique_kind(kind) and not values & other:
                return "different_shared_id"
    if a.is_child and _twins(a, b, twin_name_dice):
        return "twins"
    return None


@dataclass(frozen=True)
class _Name:
    """One name field's tokens, read as a given name. The name fields share their keys
    (tokens, one-edit variants and the name among them, short forms, encodings), so a given
    name compares with one recorded in the family field; phonetic codes are the given
    field's alone."""

    token: bytes | None
    near: frozenset[bytes] | None
    encoding: bytes | None
    canonical: bytes | None = None
    phonetic: bytes | None = None
    itself: bytes | None = None


def _given(r: LinkRecord) -> _Name:
    return _Name(
        r.get("gname"),
        r.multi.get("given_near"),
        r.encodings.get("given"),
        r.get("gcanon"),
        r.get("given_ph"),
        r.get("given_self"),
    )


def _family(r: LinkRecord) -> _Name:
    return _Name(
        r.get("fname"),
        r.multi.get("family_near"),
        r.encodings.get("family"),
        canonical=r.get("fcanon"),
        itself=r.get("family_self"),
    )


def _twin_names(a: LinkRecord, b: LinkRecord) -> tuple[_Name, _Name] | None:
    """The two given names to tell twins by: the other field of each record, where the
    records share the family name as recorded, or one holds it as its given name (family
    name first). None when they share no family name either way."""
    fa, fb = a.get("fname"), b.get("fname")
    if fa is None or fb is None:
        return None
    if fa == fb:
        return _given(a), _given(b)
    if fa == b.get("gname"):
        return _given(a), _family(b)
    if fb == a.get("gname"):
        return _family(a), _given(b)
    return None  # both family name first, or two family names: a surname change looks alike


def _twins(a: LinkRecord, b: LinkRecord, name_dice: float) -> bool:
    if a.get("dob") is None or a.get("dob") != b.get("dob"):
        return False
    if a.get("nhs") is not None and a.get("nhs") == b.get("nhs"):
        return False
    names = _twin_names(a, b)
    return names is not None and _two_names(*names, name_dice)


def _two_names(x: _Name, y: _Name, name_dice: float) -> bool:
    """Whether two given names are clearly two names, not one recorded two ways."""
    if x.token is None or y.token is None or x.token == y.token:
        return False
    for mine, theirs in ((x.canonical, y.canonical), (x.phonetic, y.phonetic)):
        if mine is not None and mine == theirs:
            return False  # a known short form (Liz), one name spelt two ways (Aimee, Amy)
    if x.near and y.near and not x.near.isdisjoint(y.near):
        return not _one_name_typed_wrong(x, y, x.near, y.near)
    if x.encoding is None or y.encoding is None:
        return True
    return dice(x.encoding, y.encoding) < name_dice


def _one_name_typed_wrong(
    x: _Name, y: _Name, near_x: frozenset[bytes], near_y: frozenset[bytes]
) -> bool:
    """Whether two given names one edit apart read as one name with a typo.

    A letter dropped or doubled (one name among the other's deletions: Harry, Hrry), two
    letters transposed (two deletions in common: Ananya, Aannya) or any edit in a longer name
    (Amarra, Amara) is a typo. One letter changed in a short name reads as two names (Ava,
    Eva: twins' names are often chosen that close). Twins named a letter dropped apart (Ana,
    Anna) are then told apart only by another field: a different NHS number, the scores.
    """
    if (x.itself is not None and x.itself in near_y) or (
        y.itself is not None and y.itself in near_x
    ):
        return True
    if len(near_x & near_y) > 1:
        return True
    return min(len(near_x), len(near_y)) > SHORT_NAME_VARIANTS
