"""Training a model as the best batch tools do: u from random pairs, m by expectation-
maximisation, term frequencies of name tokens, and the prior.

m is estimated as Splink does: one EM session per training blocking rule (records sharing a date
of birth, a family name, a given name, a postcode), each estimating only the comparisons that do
not look at the rule's own field (every pair of a rule agrees on it, so those pairs say nothing
about how often matches agree there), then averaged over the sessions that estimated it. The
prior comes from a last pass over every pair the resolver's blocking keys make, m and u fixed.
u is then estimated again with each random pair weighted by its chance of not being a match
(random pairs include matches: on a small data set enough to make agreement on a date of birth
look forty times commoner by chance than it is), and the prior with it. Weights are then kept
in order: no level weighs more than its comparison's exact level.

Pure: takes LinkRecords, returns a Model. ``earlylink train`` feeds it the identity graph's
current records.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from stream_processors.resolve.blocking import BlockingRule, candidate_pairs
from stream_processors.resolve.comparisons import NULL, Comparison
from stream_processors.resolve.constraints import cannot_link
from stream_processors.resolve.model import Model
from stream_processors.resolve.records import LinkRecord

SMOOTH = 1e-6
PRIOR_PAIRS = 20.0  # the starting m's weight in EM, in matching pairs
FLOOR_M = 1e-4  # never-seen levels get bounded, not infinite, weights
UNSEEN_PAIRS = 0.5  # a level no random pair reached counts as seen this often (u's floor)
Vector = tuple[str, ...]


# training rule (a token kind whose agreement makes a block) -> the comparisons it fixes
TRAINING_RULES: dict[str, frozenset[str]] = {
    "dob": frozenset({"dob"}),
    "fname": frozenset({"family"}),
    "gname": frozenset({"given"}),
    "postcode": frozenset({"location"}),
}


@dataclass(frozen=True)
class TrainingReport:
    records: int
    random_pairs: int
    blocked_pairs: int
    iterations: int
    match_share_of_blocked: float
    pairs_by_rule: tuple[tuple[str, int], ...] = ()


Comparisons = tuple[Comparison, ...]


def vector(a: LinkRecord, b: LinkRecord, comparisons: Comparisons) -> Vector:
    return tuple(c.level(a, b) for c in comparisons)


def blocked_pairs(records: Sequence[LinkRecord], model: Model, cap: int) -> list[tuple[int, int]]:
    """The candidate pairs (``blocking.candidate_pairs``) that no constraint forbids."""
    return [
        (a, b)
        for a, b in candidate_pairs(records, model.blocking, cap)
        if cannot_link(records[a], records[b], model.twin_name_dice) is None
    ]


def random_vectors(
    records: Sequence[LinkRecord], comparisons: Comparisons, n_pairs: int, rng: random.Random
) -> list[Vector]:
    """The comparison vectors of ``n_pairs`` random record pairs."""
    vectors = []
    for _ in range(n_pairs):
        a, b = rng.sample(range(len(records)), 2)
        vectors.append(vector(records[a], records[b], comparisons))
    return vectors


def estimate_u(
    vectors: Sequence[Vector],
    comparisons: Comparisons,
    weights: Sequence[float] | None = None,
) -> dict[str, dict[str, float]]:
    """u per level from random pairs' vectors, each pair counted with its weight: 1, or the
    chance it is not a match (``refined_u``)."""
    counts: list[Counter[str]] = [Counter() for _ in comparisons]
    for n, v in enumerate(vectors):
        w = 1.0 if weights is None else weights[n]
        for i, level in enumerate(v):
            if level != NULL:
                counts[i][level] += w  # type: ignore[assignment]
    return _normalise(counts, comparisons)


def refined_u(
    vectors: Sequence[Vector],
    comparisons: Comparisons,
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    prior: float,
) -> dict[str, dict[str, float]]:
    """u again, each random pair weighted by its chance of not being a match under m, u and
    the prior. Random pairs include matches (about the prior's share): on a data set of a
    thousand records with one duplicate each, they made u of an exact date of birth 0.0011
    where chance gives 0.00003, so agreement on a date, a postcode, an address weighed ~5 bits
    too little. On a large data set the two estimates are the same."""
    weights = [1.0 - _posterior(v, comparisons, m, u, prior) for v in vectors]
    return estimate_u(vectors, comparisons, weights)


def _normalise(counts: list[Counter[str]], comparisons: Comparisons) -> dict[str, dict[str, float]]:
    out = {}
    for comparison, count in zip(comparisons, counts, strict=True):
        names = [lv.name for lv in comparison.levels] + [comparison.otherwise]
        total = sum(count.values()) + SMOOTH * len(names)
        out[comparison.name] = {n: (count[n] + SMOOTH) / total for n in names}
    return out


def estimate_m(
    vectors: list[Vector],
    start: Model,
    u: dict[str, dict[str, float]],
    iterations: int = 25,
    fixed: frozenset[str] = frozenset(),
) -> tuple[dict[str, dict[str, float]], float]:
    """EM with u fixed: m per level (comparisons in ``fixed`` left out, neither used nor
    estimated) and the share of matches among the pairs.

    The starting model's m is a prior worth ``PRIOR_PAIRS`` matching pairs (a Dirichlet prior
    with the start as its mean): a level few pairs reach keeps about the start's m instead of
    jumping to the floor, which on a small data set made a near level weigh less than
    disagreement."""
    comparisons = start.comparisons
    m = {c: {lv: mu[0] for lv, mu in levels.items()} for c, levels in start.probabilities.items()}
    prior = {c: dict(levels) for c, levels in m.items()}
    share = 0.5
    for _ in range(iterations):
        weights = [_posterior(v, comparisons, m, u, share, fixed) for v in vectors]
        share = min(max(sum(weights) / max(len(weights), 1), 1e-6), 1 - 1e-6)
        counts: list[Counter[str]] = [Counter() for _ in comparisons]
        for v, w in zip(vectors, weights, strict=True):
            for i, level in enumerate(v):
                if level != NULL:
                    counts[i][level] += w  # type: ignore[assignment]
        for comparison, count in zip(comparisons, counts, strict=True):
            for level, p in prior.get(comparison.name, {}).items():
                count[level] += PRIOR_PAIRS * p  # type: ignore[assignment]
        estimated = _normalise(counts, comparisons)
        m = {**m, **{c: p for c, p in estimated.items() if c not in fixed}}
    return m, share


def estimate_m_by_rule(
    records: Sequence[LinkRecord],
    start: Model,
    u: dict[str, dict[str, float]],
    cap: int,
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """One EM session per training rule; each comparison's m averaged over the sessions that
    estimated it (a comparison no session estimated keeps the starting model's m)."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sessions: Counter[str] = Counter()
    sizes: dict[str, int] = {}
    for kind, fixed in TRAINING_RULES.items():
        pairs = _pairs_sharing(records, kind, start, cap)
        sizes[kind] = len(pairs)
        if len(pairs) < 10:
            continue
        vectors = [vector(records[a], records[b], start.comparisons) for a, b in pairs]
        m, _ = estimate_m(vectors, start, u, fixed=fixed)
        for comparison in m:
            if comparison in fixed:
                continue
            sessions[comparison] += 1
            for level, value in m[comparison].items():
                sums[comparison][level] += value
    averaged = {
        c: {lv: mu[0] for lv, mu in levels.items()} for c, levels in start.probabilities.items()
    }
    for comparison, levels in sums.items():
        averaged[comparison] = {lv: v / sessions[comparison] for lv, v in levels.items()}
    return averaged, sizes


def _pairs_sharing(
    records: Sequence[LinkRecord], kind: str, start: Model, cap: int
) -> list[tuple[int, int]]:
    """Pairs agreeing on one token kind (a training rule), as a one-part blocking rule."""
    rule = BlockingRule(f"train:{kind}", ((kind,),))
    return [
        (a, b)
        for a, b in candidate_pairs(records, (rule,), cap)
        if cannot_link(records[a], records[b], start.twin_name_dice) is None
    ]


def _posterior(
    v: Vector,
    comparisons: Comparisons,
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    share: float,
    fixed: frozenset[str] = frozenset(),
) -> float:
    log_odds = math.log(share / (1 - share)) if 0 < share < 1 else 0.0
    for comparison, level in zip(comparisons, v, strict=True):
        if level != NULL and comparison.name not in fixed:
            log_odds += math.log(m[comparison.name][level] / u[comparison.name][level])
    return 1 / (1 + math.exp(-max(min(log_odds, 50), -50)))


def term_frequencies(
    records: Sequence[LinkRecord], comparisons: Comparisons
) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """(kind -> token -> share of the records holding the kind, kind -> records counted) for
    every kind a level adjusts by; tokens seen once are not kept (the model then counts them
    as seen once: ``Model.frequency``), so the file lists no value held by one person."""
    tf, totals = {}, {}
    kinds = sorted({lv.tf for c in comparisons for lv in c.levels if lv.tf})
    for kind in kinds:
        counts = Counter(r.get(kind) for r in records if r.get(kind) is not None)
        total = sum(counts.values())
        tf[kind] = {t.hex(): n / total for t, n in counts.items() if n > 1 and t is not None}
        totals[kind] = total
    return tf, totals


def ordered(
    probabilities: dict[str, dict[str, tuple[float, float]]], comparisons: Comparisons
) -> dict[str, dict[str, tuple[float, float]]]:
    """No level weighs more than its comparison's first (exact) level, nor less than its last
    (disagreement): where one would, its m is moved to that level's weight. A near level says
    at most what agreement says, and at least what disagreement says (a date in the same year
    is no more evidence against a match than a date in another)."""
    out = {}
    for comparison in comparisons:
        levels = dict(probabilities.get(comparison.name, {}))
        first = comparison.levels[0].name if comparison.levels else None
        last = comparison.otherwise
        if first in levels:
            ceiling = levels[first][0] / levels[first][1]
            floor = min(levels[last][0] / levels[last][1], ceiling) if last in levels else 0.0
            for name, (m, u) in levels.items():
                levels[name] = (u * min(max(m / u, floor), ceiling), u)
        out[comparison.name] = levels
    for name, levels in probabilities.items():
        out.setdefault(name, dict(levels))
    return out


def _prior(
    vectors: list[Vector],
    comparisons: Comparisons,
    m: dict[str, dict[str, float]],
    u: dict[str, dict[str, float]],
    records: int,
) -> tuple[float, float]:
    """(prior, share of matches among the blocked pairs), m and u fixed."""
    share = 0.1
    for _ in range(10):
        weights = [_posterior(v, comparisons, m, u, share) for v in vectors]
        share = min(max(sum(weights) / max(len(weights), 1), 1e-6), 1 - 1e-6)
    total_pairs = records * (records - 1) / 2
    return min(max(share * len(vectors) / max(total_pairs, 1), 1e-9), 0.5), share


def u_floor(random_pairs: int) -> float:
    """The least u a level gets: half a pair among the random pairs drawn. A level that none
    of them reached is rarer than the sample can tell, and bounded by what it could tell. The
    floor was 1e-5 (two pairs in 200,000), which on FEBRL1 capped agreement on postcode and
    address together at 15.6 bits where the sample supports 17.6: a record whose names and
    date of birth were all replaced stayed apart from its original (docs/resolution.md)."""
    return UNSEEN_PAIRS / max(random_pairs, 1)


def train(
    records: Sequence[LinkRecord],
    start: Model,
    cap: int = 100,
    random_pairs: int = 200_000,
    seed: int = 1,
) -> tuple[Model, TrainingReport]:
    """The starting model's configuration (comparisons, blocking, constraints, threshold) with
    m, u, the prior and term frequencies estimated on ``records``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not a secret
    comparisons = start.comparisons
    sample = random_vectors(records, comparisons, random_pairs, rng)
    u = estimate_u(sample, comparisons)
    pairs = blocked_pairs(records, start, cap)
    vectors = [vector(records[a], records[b], comparisons) for a, b in pairs]
    m, sizes = estimate_m_by_rule(records, start, u, cap)
    prior, share = _prior(vectors, comparisons, m, u, len(records))
    u = refined_u(sample, comparisons, m, u, prior)
    prior, share = _prior(vectors, comparisons, m, u, len(records))
    floor_u = u_floor(random_pairs)
    probabilities = ordered(
        {c: {lv: (max(m[c][lv], FLOOR_M), max(u[c][lv], floor_u)) for lv in m[c]} for c in m},
        comparisons,
    )
    tf, tf_total = term_frequencies(records, comparisons)
    model = replace(
        start,
        probabilities=probabilities,
        prior=prior,
        tf=tf,
        tf_total=tf_total,
        notes=f"trained on {len(records)} records: m by EM per rule {sizes}, {len(pairs)} blocked",
    )
    report = TrainingReport(
        len(records), random_pairs, len(pairs), 25, share, tuple(sorted(sizes.items()))
    )
    return model, report
