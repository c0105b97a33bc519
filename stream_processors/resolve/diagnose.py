"""Why the linkage got a pair wrong: the cause of each false negative and false positive.

Pure: the records, the true and the predicted person of each, the model and the block cap. A
missed pair was never blocked (no blocking key in common within the cap), scored below the
threshold, kept apart by a constraint (which one), or left apart by clustering (its edge lost
to stronger ones that a constraint then kept from merging). A false positive is a pair in one
predicted person, linked directly or through others. Each carries the pair's levels and
weights: tokens and weights only, never a value.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from stream_processors.resolve import terms
from stream_processors.resolve.blocking import keys_of
from stream_processors.resolve.constraints import cannot_link
from stream_processors.resolve.model import Model
from stream_processors.resolve.records import LinkRecord
from stream_processors.resolve.score import Score, score_pair


@dataclass(frozen=True)
class Miss:
    kind: str  # "false_negative" or "false_positive"
    cause: str  # never_blocked | below_threshold | constraint:<rule> | clustering | linked | ...
    a: str
    b: str
    score: Score

    def describe(self) -> str:
        levels = ", ".join(f"{c}={lv} ({w:+.2f})" for c, lv, w in self.score.levels)
        return f"{self.kind} [{self.cause}] {self.a} ~ {self.b}: {self.score.weight:+.2f}: {levels}"


def _shares_key(
    keys: dict[str, set[bytes]], a: str, b: str, sizes: Counter[bytes], cap: int
) -> bool:
    return any(sizes[t] <= cap for t in keys[a] & keys[b])


def _blocking_index(
    records: Sequence[LinkRecord], model: Model
) -> tuple[dict[str, set[bytes]], Counter[bytes]]:
    """Each record's blocking keys, and how many records hold each key."""
    keys = {r.record_key: set(keys_of(r, model.blocking)) for r in records}
    return keys, Counter(t for ts in keys.values() for t in ts)


def _groups(of: dict[str, str]) -> list[list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for key, person in of.items():
        members[person].append(key)
    return [sorted(m) for m in members.values()]


def misses(
    records: Sequence[LinkRecord],
    truth: dict[str, str],
    predicted: dict[str, str],
    model: Model,
    cap: int,
) -> list[Miss]:
    """Every wrong pair among the records in both ``truth`` and ``predicted``, with its cause."""
    by_key = {
        r.record_key: r for r in records if r.record_key in truth and r.record_key in predicted
    }
    keys, sizes = _blocking_index(records, model)
    live = model.counted_terms(records)  # the store's counts, as the resolver weighs names
    found: list[Miss] = []
    truth_of = {k: truth[k] for k in by_key}
    for group in _groups(truth_of):
        for x, y in itertools.combinations(group, 2):
            if predicted[x] != predicted[y]:
                found.append(
                    _explain("false_negative", by_key[x], by_key[y], keys, sizes, model, cap, live)
                )
    for group in _groups({k: predicted[k] for k in by_key}):
        for x, y in itertools.combinations(group, 2):
            if truth[x] != truth[y]:
                found.append(
                    _explain("false_positive", by_key[x], by_key[y], keys, sizes, model, cap, live)
                )
    return found


def _explain(
    kind: str,
    a: LinkRecord,
    b: LinkRecord,
    keys: dict[str, set[bytes]],
    sizes: Counter[bytes],
    model: Model,
    cap: int,
    live: terms.TermCounts | None = None,
) -> Miss:
    score = score_pair(a, b, model, live)
    rule = cannot_link(a, b, model.twin_name_dice)
    blocked = _shares_key(keys, a.record_key, b.record_key, sizes, cap)
    if kind == "false_positive":
        direct = blocked and score.weight >= model.link_threshold
        cause = "linked" if direct else "through_others"
    elif rule is not None:
        cause = f"constraint:{rule}"
    elif not blocked:
        cause = "never_blocked"
    elif score.weight < model.link_threshold:
        cause = "below_threshold"
    else:
        cause = "clustering"
    return Miss(kind, cause, a.record_key, b.record_key, score)


def unblocked(
    records: Sequence[LinkRecord], truth: dict[str, str], model: Model, cap: int
) -> list[tuple[tuple[str, ...], int]]:
    """The true pairs that share no blocking key within the cap (what blocking recall counts
    as missed, whether or not clustering joins them through others), grouped by their levels
    (``comparison=level``, levels only), most pairs first: what a new blocking rule must
    reach."""
    keys, sizes = _blocking_index(records, model)  # every record fills the blocks
    by_key = {r.record_key: r for r in records if r.record_key in truth}
    patterns: Counter[tuple[str, ...]] = Counter()
    for group in _groups({k: p for k, p in truth.items() if k in by_key}):
        for x, y in itertools.combinations(group, 2):
            if not _shares_key(keys, x, y, sizes, cap):
                score = score_pair(by_key[x], by_key[y], model)
                patterns[tuple(f"{c}={lv}" for c, lv, _ in score.levels)] += 1
    return patterns.most_common()


def by_cause(found: Sequence[Miss]) -> list[tuple[str, str, int]]:
    """(kind, cause, pairs), most pairs first."""
    counts = Counter((m.kind, m.cause) for m in found)
    return [(k, c, n) for (k, c), n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
