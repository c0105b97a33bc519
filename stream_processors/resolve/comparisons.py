"""Comparisons as small composable objects with ordered levels, like Splink's.

Each comparison looks at one aspect of a record pair and returns the first level that applies
(levels are tried in order); ``NULL`` when either side lacks the data (weight 0). The level
names are what the model's m and u probabilities are keyed by.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from stream_processors import shared_ids as idkinds
from stream_processors.pseudonymise.bloom import dice
from stream_processors.resolve.records import LinkRecord

NULL = "null"
Predicate = Callable[[LinkRecord, LinkRecord], bool]
Holds = Callable[[LinkRecord], bool]  # one record has the data a comparison needs


def same(kind: str) -> Predicate:
    def check(a: LinkRecord, b: LinkRecord) -> bool:
        x = a.tokens.get(kind)  # the token dicts directly: this runs for every pair and level
        return x is not None and x == b.tokens.get(kind)

    return check


def swapped_names(a: LinkRecord, b: LinkRecord) -> bool:
    """Given and family names recorded in each other's fields (one name may have more parts)."""

    def one_way(x: LinkRecord, y: LinkRecord) -> bool:
        f = x.tokens.get("fname")  # the token dicts directly: this runs for most pairs, twice
        if f is None or f != y.tokens.get("gname"):
            return False
        g = x.tokens.get("gname")
        return g is not None and g in (y.tokens.get("fname"), y.tokens.get("fname_first"))

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


# The Dice levels of a comparison (90, then 75) ask the same pair twice, and a crossed pair
# asks it again: the last few answers are kept (encodings are bytes: their hashes are cached)
_dice = lru_cache(maxsize=64)(dice)


def similar(kind: str, at_least: float) -> Predicate:
    def check(a: LinkRecord, b: LinkRecord) -> bool:
        x = a.encodings.get(kind)
        if x is None:
            return False
        y = b.encodings.get(kind)
        return y is not None and _dice(x, y) >= at_least

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


CROSSED_DICE = 0.6  # the misspelt name of a crossed pair is at least this like the other


def crossed_names(a: LinkRecord, b: LinkRecord) -> bool:
    """A given name recorded as the other's family name and the family name as its given name,
    one of the two exactly and the other nearly (Dice on the shared-key encodings at least
    ``CROSSED_DICE``): a swap with a typo in one of the names. As in ``swapped_names``, the
    given name may be the first part of a family field with more parts."""

    def one_way(x: LinkRecord, y: LinkRecord) -> bool:
        g, f = x.tokens.get("gname"), x.tokens.get("fname")
        g_to_f = g is not None and g in (y.tokens.get("fname"), y.tokens.get("fname_first"))
        f_to_g = f is not None and f == y.tokens.get("gname")
        if g_to_f == f_to_g:
            return False  # neither (not a swap) or both (``swapped_names`` says so)
        first, second = ("family", "given") if g_to_f else ("given", "family")
        p, q = x.encodings.get(first), y.encodings.get(second)
        return p is not None and q is not None and _dice(p, q) >= CROSSED_DICE

    return one_way(a, b) or one_way(b, a)


def all_of(*predicates: Predicate) -> Predicate:
    def check(a: LinkRecord, b: LinkRecord) -> bool:
        return all(p(a, b) for p in predicates)

    return check


def _sex_known(r: LinkRecord) -> bool:
    return r.sex in ("FEMALE", "MALE")


def sex_known(a: LinkRecord, b: LinkRecord) -> bool:
    return _sex_known(a) and _sex_known(b)


def same_sex(a: LinkRecord, b: LinkRecord) -> bool:
    return a.sex == b.sex


@dataclass(frozen=True)
class Level:
    name: str
    applies: Predicate = field(compare=False)
    tf: str | None = None  # a token kind: the level's u is that token's own frequency
    spec: dict[str, Any] = field(default_factory=dict)  # as in the file, without m and u


@dataclass(frozen=True)
class Comparison:
    """An ordered list of levels; ``present`` tells whether both sides have the data, and
    ``holds`` whether one side has what it takes (a batch asks it once per record, not once
    per pair): ``present`` is ``holds(a) and holds(b)``, or for a ``pairwise`` comparison
    implies it and is asked of the pair as well (shared ids: the two must hold one in the
    same scheme). Without a ``holds`` of its own, a comparison is asked of each pair."""

    name: str
    present: Predicate = field(compare=False)
    levels: tuple[Level, ...] = ()
    otherwise: str = "else"
    spec: dict[str, Any] = field(default_factory=dict)  # as in the file, without the levels
    holds: Holds = field(default=lambda _: True, compare=False)
    pairwise: bool = True

    def level(self, a: LinkRecord, b: LinkRecord) -> str:
        return self.applying(a, b) if self.present(a, b) else NULL

    def applying(self, a: LinkRecord, b: LinkRecord) -> str:
        """The first level that applies, for a pair with the data on both sides."""
        for applies, name in self._chain:
            if applies(a, b):
                return name
        return self.otherwise

    @cached_property
    def _chain(self) -> tuple[tuple[Predicate, str], ...]:
        """The levels' tests and names, unpacked once (asked for every scored pair)."""
        return tuple((lv.applies, lv.name) for lv in self.levels)

    def tf_kind(self, level: str) -> str | None:
        return self._tf.get(level)

    @cached_property
    def _tf(self) -> dict[str, str]:
        """Level -> the token kind it adjusts by (asked for every scored pair)."""
        return {lv.name: lv.tf for lv in self.levels if lv.tf}


def has(*kinds: str, encodings: tuple[str, ...] = ()) -> Holds:
    """A record has at least one of ``kinds`` (tokens) or ``encodings``."""

    def holds(r: LinkRecord) -> bool:
        tokens, encoded = r.tokens, r.encodings
        for k in kinds:
            if k in tokens:
                return True
        return any(e in encoded for e in encodings)

    return holds


def both(*kinds: str, encodings: tuple[str, ...] = ()) -> Predicate:
    """Both records have at least one of ``kinds`` (tokens) or ``encodings``."""

    if len(kinds) == 1 and not encodings:  # asked of every comparison of every pair
        (kind,) = kinds
        return lambda a, b: kind in a.tokens and kind in b.tokens
    holds = has(*kinds, encodings=encodings)

    def check(a: LinkRecord, b: LinkRecord) -> bool:
        return holds(a) and holds(b)

    return check


# ------------------------------------------------------------------ comparisons as data
#
# A level's "when" names one test and its arguments, as in the linkage file:
#   {"same": KIND}  {"meet": MULTI_KIND}  {"similar": [ENCODING, AT_LEAST]}
#   {"in_other": [KIND, MULTI_KIND]}  {"swapped_names": true}  {"crossed_names": true}
#   {"shared_id": "unique" | "any" | "near"}  {"same_sex": true}  {"all": [WHEN, ...]}
# and a comparison's "present" says which data both sides need:
#   {"tokens": [KIND, ...], "encodings": [ENCODING, ...]}  {"shared_ids": true}
#   {"sex_known": true}

_TESTS: dict[str, Callable[[Any], Predicate]] = {
    "same": same,
    "meet": meet,
    "similar": lambda arg: similar(str(arg[0]), float(arg[1])),
    "in_other": lambda arg: in_other(str(arg[0]), str(arg[1])),
    "swapped_names": lambda _: swapped_names,
    "crossed_names": lambda _: crossed_names,
    "shared_id": lambda arg: {
        "unique": shared_id_agrees(unique=True),
        "any": shared_id_agrees(unique=False),
        "near": shared_id_near,
    }[arg],
    "same_sex": lambda _: same_sex,
    "all": lambda arg: all_of(*(predicate_from(w) for w in arg)),
}


def predicate_from(when: dict[str, Any]) -> Predicate:
    """The test a level's ``when`` names; a clear error for anything else."""
    if not isinstance(when, dict) or len(when) != 1:
        raise ValueError(f"a level's 'when' names exactly one test, not {when!r}")
    ((test, argument),) = when.items()
    if test not in _TESTS:
        raise ValueError(f"unknown test {test!r}; known: {', '.join(sorted(_TESTS))}")
    try:
        return _TESTS[test](argument)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"bad argument for {test!r}: {argument!r}") from exc


def _holds_shared_ids(r: LinkRecord) -> bool:
    return bool(r.shared_ids)


def present_from(spec: dict[str, Any]) -> tuple[Predicate, Holds, bool]:
    """A comparison's ``present`` test, its ``holds`` and whether it is ``pairwise`` (shared
    ids are present when the two hold one in the same scheme: a pair's property)."""
    if spec.get("shared_ids"):
        return shared_id_present, _holds_shared_ids, True
    if spec.get("sex_known"):
        return sex_known, _sex_known, False
    kinds = tuple(spec.get("tokens", ()))
    encodings = tuple(spec.get("encodings", ()))
    if not kinds and not encodings:
        raise ValueError(f"'present' names no tokens or encodings: {spec!r}")
    return both(*kinds, encodings=encodings), has(*kinds, encodings=encodings), False


def comparison_from(spec: dict[str, Any]) -> Comparison:
    """A comparison from its entry in the linkage file (levels in order; the last, with no
    ``when``, is the level for everything else)."""
    name = spec["name"]
    *levels, otherwise = spec["levels"]
    if "when" in otherwise or any("when" not in lv for lv in levels):
        raise ValueError(f"comparison {name!r}: every level but the last needs a 'when'")
    built = tuple(
        Level(
            lv["name"],
            predicate_from(lv["when"]),
            lv.get("tf"),
            {k: v for k, v in lv.items() if k not in ("m", "u")},
        )
        for lv in levels
    )
    names = [lv.name for lv in built] + [otherwise["name"]]
    if len(set(names)) != len(names) or NULL in names:
        raise ValueError(f"comparison {name!r}: level names must be distinct and not {NULL!r}")
    head = {k: v for k, v in spec.items() if k != "levels"}
    present, holds, pairwise = present_from(spec["present"])
    return Comparison(name, present, built, otherwise["name"], head, holds, pairwise)
