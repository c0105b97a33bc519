"""Training a model as the best batch tools do: u from random pairs, m by expectation-
maximisation over blocked pairs, term frequencies of name tokens, and the prior.

Pure: takes LinkRecords, returns a Model. ``earlylink train`` feeds it the identity graph's
current records.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from stream_processors.resolve.comparisons import COMPARISONS, NULL
from stream_processors.resolve.model import TF_COMPARISONS, Model
from stream_processors.resolve.records import LinkRecord
from stream_processors.resolve.score import cannot_link

SMOOTH = 1e-6
FLOOR_M, FLOOR_U = 1e-4, 1e-5  # never-seen levels get bounded, not infinite, weights
Vector = tuple[str, ...]


@dataclass(frozen=True)
class TrainingReport:
    records: int
    random_pairs: int
    blocked_pairs: int
    iterations: int
    match_share_of_blocked: float


def vector(a: LinkRecord, b: LinkRecord) -> Vector:
    return tuple(c.level(a, b) for c in COMPARISONS)


def blocked_pairs(records: Sequence[LinkRecord], cap: int) -> list[tuple[int, int]]:
    """Pairs sharing a blocking token (tokens on more than ``cap`` records skipped)."""
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for token in record.blocking_tokens():
            groups[token].append(i)
    pairs = {
        (a, b)
        for members in groups.values()
        if len(members) <= cap
        for x, a in enumerate(members)
        for b in members[x + 1 :]
    }
    return sorted((a, b) for a, b in pairs if cannot_link(records[a], records[b]) is None)


def estimate_u(
    records: Sequence[LinkRecord], n_pairs: int, rng: random.Random
) -> dict[str, dict[str, float]]:
    counts: list[Counter[str]] = [Counter() for _ in COMPARISONS]
    for _ in range(n_pairs):
        a, b = rng.sample(range(len(records)), 2)
        for i, level in enumerate(vector(records[a], records[b])):
            if level != NULL:
                counts[i][level] += 1
    return _normalise(counts)


def _normalise(counts: list[Counter[str]]) -> dict[str, dict[str, float]]:
    out = {}
    for comparison, count in zip(COMPARISONS, counts, strict=True):
        names = [lv.name for lv in comparison.levels] + [comparison.otherwise]
        total = sum(count.values()) + SMOOTH * len(names)
        out[comparison.name] = {n: (count[n] + SMOOTH) / total for n in names}
    return out


def estimate_m(
    vectors: list[Vector], start: Model, u: dict[str, dict[str, float]], iterations: int = 25
) -> tuple[dict[str, dict[str, float]], float]:
    """EM with u fixed: returns m per level and the share of matches among the pairs."""
    m = {c: {lv: mu[0] for lv, mu in levels.items()} for c, levels in start.probabilities.items()}
    share = 0.5
    for _ in range(iterations):
        weights = [_posterior(v, m, u, share) for v in vectors]
        share = sum(weights) / max(len(weights), 1)
        counts: list[Counter[str]] = [Counter() for _ in COMPARISONS]
        for v, w in zip(vectors, weights, strict=True):
            for i, level in enumerate(v):
                if level != NULL:
                    counts[i][level] += w  # type: ignore[assignment]
        m = _normalise(counts)
    return m, share


def _posterior(
    v: Vector, m: dict[str, dict[str, float]], u: dict[str, dict[str, float]], share: float
) -> float:
    log_odds = math.log(share / (1 - share)) if 0 < share < 1 else 0.0
    for comparison, level in zip(COMPARISONS, v, strict=True):
        if level != NULL:
            log_odds += math.log(m[comparison.name][level] / u[comparison.name][level])
    return 1 / (1 + math.exp(-max(min(log_odds, 50), -50)))


def term_frequencies(records: Sequence[LinkRecord]) -> dict[str, dict[str, float]]:
    tf = {}
    for kind in TF_COMPARISONS.values():
        counts = Counter(r.get(kind) for r in records if r.get(kind) is not None)
        total = sum(counts.values())
        tf[kind] = {t.hex(): n / total for t, n in counts.items() if n > 1 and t is not None}
    return tf


def train(
    records: Sequence[LinkRecord],
    start: Model,
    cap: int = 100,
    random_pairs: int = 200_000,
    seed: int = 1,
) -> tuple[Model, TrainingReport]:
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not a secret
    u = estimate_u(records, random_pairs, rng)
    pairs = blocked_pairs(records, cap)
    vectors = [vector(records[a], records[b]) for a, b in pairs]
    m, share = estimate_m(vectors, start, u)
    total_pairs = len(records) * (len(records) - 1) / 2
    prior = min(max(share * len(pairs) / max(total_pairs, 1), 1e-9), 0.5)
    probabilities = {
        c: {lv: (max(m[c][lv], FLOOR_M), max(u[c][lv], FLOOR_U)) for lv in m[c]} for c in m
    }
    model = Model(
        probabilities,
        prior,
        start.link_threshold,
        term_frequencies(records),
        start.tf_min_u,
        notes=f"trained on {len(records)} records, {len(pairs)} blocked pairs",
    )
    return model, TrainingReport(len(records), random_pairs, len(pairs), 25, share)
