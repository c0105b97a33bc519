"""Scoring a record pair, the constraints that forbid a link, and the evidence for a link."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sink.rows import ScoredEdge
from stream_processors import shared_ids as idkinds
from stream_processors.pseudonymise.bloom import dice
from stream_processors.resolve import terms
from stream_processors.resolve.comparisons import NULL
from stream_processors.resolve.model import TWIN_NAME_DICE, Model, Terms
from stream_processors.resolve.records import LinkRecord

# a name of four letters has at most five one-edit variants (itself, four deletions): names
# that short and one edit apart are two names (Ella, Emma), longer ones a typo
SHORT_NAME_VARIANTS = 5


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class Score:
    """A pair's match weight and, per comparison with data on both sides, (comparison, level,
    weight); ``evidence`` names them (made only when asked: most pairs scored are not linked)."""

    weight: float
    levels: tuple[tuple[str, str, float], ...]

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(Evidence(c, lv, w) for c, lv, w in self.levels)

    def as_json(self, model_version: str) -> dict[str, object]:
        return {
            "model_version": model_version,
            "match_weight": round(self.weight, 3),
            "comparisons": [
                {"comparison": c, "level": lv, "weight": round(w, 3)} for c, lv, w in self.levels
            ],
        }


def score_pair(a: LinkRecord, b: LinkRecord, model: Model, live: Terms | None = None) -> Score:
    """Match weight of a pair: prior plus each comparison's level weight (symmetric: a level
    with term frequencies applies when both hold the token, so either side's is the same;
    ``live``: the store's counts, for a model without a table of its own)."""
    total = model.prior_weight
    levels = []
    for comparison in model.comparisons:
        level = comparison.level(a, b)
        if level == NULL:
            continue  # weight 0
        kind = comparison.tf_kind(level)
        weight = model.weight(comparison.name, level, a.tokens.get(kind) if kind else None, live)
        total += weight
        levels.append((comparison.name, level, weight))
    return Score(total, tuple(levels))


def reweighed(
    edge: ScoredEdge, moved: Mapping[str, tuple[float, float]], model: Model
) -> ScoredEdge:
    """A stored link after the frequencies of name tokens both its records hold moved
    (``moved``: kind -> (frequency then, now)): each level adjusting by such a kind takes its
    new weight, and the match weight moves by as much. The same as scoring the pair again,
    without its records."""
    total = edge.weight
    levels = []
    for entry in edge.evidence["comparisons"]:
        kind = model.tf_kind(entry["comparison"], entry["level"])
        if kind is not None and kind in moved:
            then, now = moved[kind]
            total += math.log2(then / now)
            weight = model.tf_weight(entry["comparison"], entry["level"], now)
            entry = {**entry, "weight": round(weight, 3)}
        levels.append(entry)
    evidence = {**edge.evidence, "match_weight": round(total, 3), "comparisons": levels}
    return ScoredEdge(edge.a, edge.b, total, evidence)


@dataclass(frozen=True)
class Relinked:
    """Stored links after name tokens their records share weigh less: the ``pairs`` whose
    links changed, those still linked (``kept``, new weights) and the records of those that
    went (under the threshold now)."""

    pairs: list[tuple[str, str]]
    kept: list[ScoredEdge]
    gone: set[str]


def relinked(
    links: Iterable[ScoredEdge],
    holding: Mapping[str, set[bytes]],
    counted: terms.Recount,
    model: Model,
) -> Relinked:
    """``links`` re-weighed (``reweighed``) where both records hold a token of ``counted``
    (``holding``: record -> those it holds); a link sharing none of them is left as it is."""
    records, floor = model.live_records, model.tf_min_u
    held = {t for tokens in holding.values() for t in tokens}
    shares = {
        t: (
            terms.share(counted.then[t], records, floor),
            terms.share(counted.now.get(t, 0), records, floor),
        )
        for t in held
    }
    result = Relinked([], [], set())
    for edge in links:
        shared = holding.get(edge.a, set()) & holding.get(edge.b, set())
        if not shared:
            continue
        new = reweighed(edge, {counted.kinds[t]: shares[t] for t in shared}, model)
        result.pairs.append((edge.a, edge.b))
        if new.weight >= model.link_threshold:
            result.kept.append(new)
        else:
            result.gone.update((edge.a, edge.b))
    return result


def cannot_link(a: LinkRecord, b: LinkRecord, twin_name_dice: float = TWIN_NAME_DICE) -> str | None:
    """Why two records can never be one person, or None.

    Different valid NHS numbers or pupil numbers, or no value in common in a shared identifier
    scheme that is unique per person; a child and an adult; twins (children with the
    same date of birth and family name but clearly different given names: not a short form of
    one another, not the same name phonetically, and no NHS number in common).
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


def _twins(a: LinkRecord, b: LinkRecord, name_dice: float) -> bool:
    if a.get("dob") is None or a.get("dob") != b.get("dob"):
        return False
    if a.get("nhs") is not None and a.get("nhs") == b.get("nhs"):
        return False
    if a.get("fname") is None or a.get("fname") != b.get("fname"):
        return False  # twins share the family name as recorded
    ga, gb = a.get("gname"), b.get("gname")
    if ga is None or gb is None or ga == gb or a.get("gcanon") == b.get("gcanon"):
        return False  # the same name, or a known short form of it
    if a.get("given_ph") is not None and a.get("given_ph") == b.get("given_ph"):
        return False  # one name spelt two ways (Aimee, Amy), not two children
    near_a, near_b = a.multi.get("given_near"), b.multi.get("given_near")
    if near_a and near_b and not near_a.isdisjoint(near_b):
        return not _one_name_typed_wrong(a, b, near_a, near_b)
    x, y = a.encodings.get("given"), b.encodings.get("given")
    return x is None or y is None or dice(x, y) < name_dice


def _one_name_typed_wrong(
    a: LinkRecord, b: LinkRecord, near_a: frozenset[bytes], near_b: frozenset[bytes]
) -> bool:
    """Whether two given names one edit apart read as one name with a typo.

    A letter dropped or doubled (one name among the other's deletions: Harry, Hrry), two
    letters transposed (two deletions in common: Ananya, Aannya) or any edit in a longer name
    (Amarra, Amara) is a typo. One letter changed in a short name reads as two names (Ava,
    Eva: twins' names are often chosen that close). Twins named a letter dropped apart (Ana,
    Anna) are then told apart only by another field: a different NHS number, the scores.
    """
    if a.get("given_self") in near_b or b.get("given_self") in near_a:
        return True
    if len(near_a & near_b) > 1:
        return True
    return min(len(near_a), len(near_b)) > SHORT_NAME_VARIANTS
