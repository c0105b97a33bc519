"""Comparisons as small composable objects with ordered levels, like Splink's.

Each comparison looks at one aspect of a record pair and returns the first level that applies
(levels are tried in order); ``NULL`` when either side lacks the data (weight 0). The level
names are what the model's m and u probabilities are keyed by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stream_processors import shared_ids as idkinds
from stream_processors.pseudonymise.bloom import dice
from stream_processors.resolve.records import LinkRecord

NULL = "null"
Predicate = Callable[[LinkRecord, LinkRecord], bool]


def same(kind: str) -> Predicate:
    def check(a: LinkRecord, b: LinkRecord) -> bool:
        x = a.tokens.get(kind)  # the token dicts directly: this runs for every pair and level
        return x is not None and x == b.tokens.get(kind)

    return check


def swapped_names(a: LinkRecord, b: LinkRecord) -> bool:
    """Given and family names recorded in each other's fields (one name may have more parts)."""

    def one_way(x: LinkRecord, y: LinkRecord) -> bool:
        g, f = x.get("gname"), x.get("fname")
        return (
            g is not None
            and f is not None
            and f == y.get("gname")
            and g in (y.get("fname"), y.get("fname_first"))
        )

    return one_way(a, b) or one_way(b, a)


def in_other(kind: str, multi_kind: str) -> Predicate:
    """One side's value appears among the other's alternatives (e.g. a former family name)."""

    def check(a: LinkRecord, b: LinkRecord) -> bool:
        return (a.get(kind) is not None and a.get(kind) in b.multi.get(multi_kind, ())) or (
            b.get(kind) is not None and b.get(kind) in a.multi.get(multi_kind, ())
        )

    return check


def meet(multi_kind: str) -> Predicate:
    """The two records' multi-valued tokens of one kind meet (e.g. one-edit variants)."""

    def check(a: LinkRecord, b: LinkRecord) -> bool:
        x = a.multi.get(multi_kind)
        return x is not None and not x.isdisjoint(b.multi.get(multi_kind, ()))

    return check


def similar(kind: str, at_least: float) -> Predicate:
    def check(a: LinkRecord, b: LinkRecord) -> bool:
        x = a.encodings.get(kind)
        if x is None:
            return False
        y = b.encodings.get(kind)
        return y is not None and dice(x, y) >= at_least

    return check


def _common_id_kinds(a: LinkRecord, b: LinkRecord) -> list[str]:
    if not a.shared_ids or not b.shared_ids:
        return []
    return [k for k in a.shared_ids if k in b.shared_ids]


def shared_id_present(a: LinkRecord, b: LinkRecord) -> bool:
    """Both records hold a value of at least one shared identifier scheme in common."""
    return bool(_common_id_kinds(a, b))


def shared_id_agrees(unique: bool) -> Predicate:
    """A value in common in a scheme that is (or is not) unique per person."""

    def check(a: LinkRecord, b: LinkRecord) -> bool:
        return any(
            idkinds.is_unique_kind(k) == unique and a.shared_ids[k] & b.shared_ids[k]
            for k in _common_id_kinds(a, b)
        )

    return check


def shared_id_near(a: LinkRecord, b: LinkRecord) -> bool:
    """Values one edit apart (their one-edit variant tokens meet)."""
    return any(a.near_ids(k) & b.near_ids(k) for k in _common_id_kinds(a, b))


@dataclass(frozen=True)
class Level:
    name: str
    applies: Predicate


@dataclass(frozen=True)
class Comparison:
    """An ordered list of levels; ``present`` tells whether both sides have the data."""

    name: str
    present: Predicate
    levels: tuple[Level, ...]
    otherwise: str = "else"

    def level(self, a: LinkRecord, b: LinkRecord) -> str:
        if not self.present(a, b):
            return NULL
        for level in self.levels:
            if level.applies(a, b):
                return level.name
        return self.otherwise


def both(*kinds: str, encodings: tuple[str, ...] = ()) -> Predicate:
    """Both records have at least one of ``kinds`` (tokens) or ``encodings``."""

    def has(r: LinkRecord) -> bool:
        tokens, encoded = r.tokens, r.encodings
        for k in kinds:
            if k in tokens:
                return True
        return any(e in encoded for e in encodings)

    def check(a: LinkRecord, b: LinkRecord) -> bool:
        return has(a) and has(b)

    return check


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("nhs", both("nhs"), (Level("exact", same("nhs")),)),
    Comparison("upn", both("upn"), (Level("exact", same("upn")),)),
    Comparison(
        "dob",
        both("dob"),
        (
            Level("exact", same("dob")),
            Level("day_month_swapped", same("dob_swap")),
            Level("one_digit", meet("dob_near")),
            Level("year_month", same("dob_ym")),
            Level("year", same("yob")),
        ),
    ),
    Comparison(
        "given",
        both("gname", encodings=("given",)),
        (
            Level("exact", same("gname")),
            Level("swapped_with_family", swapped_names),
            Level("all_given_exact", same("given_all")),
            Level("nickname", same("gcanon")),
            Level("dice_90", similar("given", 0.9)),
            Level("phonetic", same("given_ph")),
            Level("dice_75", similar("given", 0.75)),
        ),
    ),
    Comparison(
        "family",
        both("fname", encodings=("family",)),
        (
            Level("exact", same("fname")),
            Level("swapped_with_given", swapped_names),
            Level("former_name", in_other("fname", "fname_alt")),
            Level("dice_90", similar("family", 0.9)),
            Level("phonetic", same("family_ph")),
            Level("dice_75", similar("family", 0.75)),
        ),
    ),
    Comparison(
        "location",
        both("postcode", "sector", encodings=("address",)),
        (
            Level("postcode", same("postcode")),
            Level("address_90", similar("address", 0.9)),
            Level("sector", same("sector")),
            Level("district", same("district")),
            Level("address_75", similar("address", 0.75)),
        ),
    ),
    Comparison(
        "local_id",
        shared_id_present,
        (
            Level("exact_unique", shared_id_agrees(unique=True)),
            Level("exact", shared_id_agrees(unique=False)),
            Level("near", shared_id_near),
        ),
    ),
    Comparison(
        "sex",
        lambda a, b: a.sex in ("FEMALE", "MALE") and b.sex in ("FEMALE", "MALE"),
        (Level("same", lambda a, b: a.sex == b.sex),),
    ),
)
