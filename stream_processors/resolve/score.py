"""Scoring a record pair, the constraints that forbid a link, and the evidence for a link."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sink.rows import ScoredEdge
from stream_processors.resolve import terms
from stream_processors.resolve.comparisons import Comparison
from stream_processors.resolve.model import Model, Terms
from stream_processors.resolve.records import LinkRecord


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
    score = score_reaching(a, b, model, -math.inf, live)
    assert score is not None  # nothing is under -inf
    return score


def score_reaching(
    a: LinkRecord,
    b: LinkRecord,
    model: Model,
    at_least: float,
    live: Terms | None = None,
    present: Sequence[Comparison] | None = None,
) -> Score | None:
    """``score_pair``, or None as soon as the pair cannot reach ``at_least``: when the weight
    so far and the most each comparison still to look at can add (``Model.most``) fall short.
    Most candidate pairs are not linked, and their last comparisons need not be worked out.
    A pair that gets a score gets the same as from ``score_pair`` (summed in the same order).
    ``present``: the comparisons with data on both sides, where the caller knows them
    (``Model.present_in``); the others weigh 0."""
    if present is None:
        present = [c for c in model.comparisons if c.present(a, b)]
    most, weights = model.most, model.level_weights
    total = model.prior_weight
    reach = total + sum(most[c.name] for c in present)
    levels = []
    for comparison in present:
        name = comparison.name
        level = comparison.applying(a, b)
        plain, kind = weights[name, level]
        weight = plain if kind is None else model.weight(name, level, a.tokens.get(kind), live)
        total += weight
        reach += weight - most[name]
        if reach < at_least - _ROUNDING:
            return None
        levels.append((name, level, weight))
    return Score(total, tuple(levels))


_ROUNDING = 1e-9  # ``reach`` sums in another order than ``total``: never cut a pair at the line


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
