"""Term frequencies the resolver keeps itself, for the levels that adjust by them.

"Smith" agreeing says less than "Wiśniewski": a level with ``tf`` (exact given or family name)
takes as its u the agreeing token's share of the records. A trained model carries a table of
those shares (``earlylink train``), fixed with its version. A model without one (the shipped
model: a fresh deployment) takes them from the store: the resolver keeps, in the batch's
transaction, which records hold each such token (``term_keys``) and how many do, moved by the
rows each batch adds and removes (``changes``; a record whose names did not change writes
nothing), so a common name weighs less as soon as it is common, with no training run.

Counts that move with the data would make a pair's weight depend on when it was scored. So a
weight uses the count's *bucket*, powers of four (1-3, 4-15, 16-63, ...: the bucket's middle is
at most a bit from the true count's weight), and when a token's count moves into another
bucket the pairs that agreed on it are scored again (``Moved``; a redo, as when a blocking key
crosses the cap: ``stream_processors.resolve_agent``). Scores are then those of a batch run
over the same records, whatever their order. That work stays proportional to the count (each
bucket is four times the one before). Measured with ``bench.linkage_offline`` against powers
of two (half a bit at most): the F1 on FEBRL1 and the borough is the same to the fourth digit
and FEBRL2's is 0.001 higher, while the re-weighing, the store's counts' main cost, halves.
Half powers of two cost about 40 % of the resolver's throughput in re-scoring and moved the
F1 by 0.0005 at most.

The share is the bucket's middle over the records a model expects (``Model.live_records``: the
prior is one in that many), floored at the model's ``tf_min_u``; a token held by no record
counts as held by one (the first bucket). Keys are digests of the kind and token: a count says
how many records share a token, never which value it is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import blake2b

from sink.rows import BlockKey
from stream_processors.resolve.comparisons import Comparison
from stream_processors.resolve.records import LinkRecord

PREFIX = b"earlylink-term|"


def kinds_of(comparisons: Iterable[Comparison]) -> tuple[str, ...]:
    """The token kinds some level adjusts by, sorted."""
    return tuple(sorted({lv.tf for c in comparisons for lv in c.levels if lv.tf}))


@lru_cache(maxsize=1 << 17)
def term_key(kind: str, token: bytes) -> bytes:
    """The digest a token of ``kind`` is counted under (names repeat: worked out once)."""
    return blake2b(PREFIX + kind.encode() + b"|" + token, digest_size=16).digest()


def term_keys(record: LinkRecord, kinds: Iterable[str]) -> dict[str, bytes]:
    """Kind -> the key the record's token of that kind is counted under."""
    return {k: term_key(k, record.tokens[k]) for k in kinds if k in record.tokens}


BUCKET_BITS = 2  # a bucket spans this many doublings of the count: powers of four


def bucket(count: int) -> int:
    """The bucket a count lies in: j with 4^j <= count < 4^(j+1); 0 for 0 to 3."""
    return (max(count, 1).bit_length() - 1) // BUCKET_BITS


@dataclass(frozen=True)
class Moved:
    """Term keys whose count moved into another bucket: ``up`` (more holders: the token's
    weight went down, so only links already made can be undone: the stored edges among its
    holders are scored again) and ``down`` (fewer: its weight went up, so any candidate
    pair of its holders may now link: they are redone whole)."""

    up: list[bytes]
    down: list[bytes]


@dataclass(frozen=True)
class Recount:
    """What a batch did to the counts of the tokens it touched: their counts before and now,
    and the kind of each token the batch's records hold."""

    then: dict[bytes, int]
    now: dict[bytes, int]
    kinds: dict[bytes, str]

    @property
    def moved(self) -> Moved:
        """The tokens whose count moved into another bucket."""
        up: list[bytes] = []
        down: list[bytes] = []
        for key in sorted(self.then):
            then, now = self.then[key], self.now.get(key, 0)
            if bucket(then) != bucket(now):
                (up if now > then else down).append(key)
        return Moved(up, down)


def changes(
    held: Iterable[BlockKey], holding: Iterable[BlockKey]
) -> tuple[list[BlockKey], list[BlockKey]]:
    """The rows of counted tokens that go (``held`` before, not now) and come (``holding``
    now, not before): a record whose names did not change writes nothing."""
    before, after = set(held), set(holding)
    return sorted(before - after), sorted(after - before)


def difference(gone: Iterable[BlockKey], new: Iterable[BlockKey]) -> dict[bytes, int]:
    """How much each token's count moves when the rows ``gone`` go and ``new`` come (tokens
    whose changes cancel out left out)."""
    moved = Counter(r.token for r in new)
    moved.subtract(r.token for r in gone)
    return {t: n for t, n in sorted(moved.items()) if n}


def recount(
    now: Mapping[bytes, int], moved: Mapping[bytes, int], kinds: Mapping[bytes, str]
) -> Recount:
    """The counts of the tokens whose count ``moved`` (``difference``), before and now
    (``now``: the counts after; a token absent from it is held by no record)."""
    then = {k: now.get(k, 0) - n for k, n in moved.items()}
    return Recount(then, {k: now[k] for k in moved if k in now}, dict(kinds))


@dataclass(frozen=True)
class TermCounts:
    """How many records hold each token (kind, token) -> count, and the records a model
    expects: the frequencies a model without its own table adjusts by."""

    counts: Mapping[tuple[str, bytes], int]
    records: int
    floor: float
    _weights: dict[tuple[str, bytes, float], float] = field(default_factory=dict, compare=False)

    def frequency(self, kind: str, token: bytes) -> float:
        return share(self.counts.get((kind, token), 1), self.records, self.floor)

    def weight(self, kind: str, token: bytes, m: float) -> float:
        """log2(m / the token's frequency), worked out once per token (asked per pair)."""
        held = self._weights.get((kind, token, m))
        if held is None:
            held = self._weights[(kind, token, m)] = math.log2(m / self.frequency(kind, token))
        return held


def share(count: int, records: int, floor: float) -> float:
    """The frequency a token held by ``count`` of the ``records`` a model expects has: its
    bucket's middle over them, floored."""
    middle = 2 ** (BUCKET_BITS * (bucket(count) + 0.5))
    return min(max(middle / records, floor), 1.0)


def live_counts(
    records: Iterable[LinkRecord],
    kinds: Iterable[str],
    held: Mapping[bytes, int],
    total: int,
    floor: float,
) -> TermCounts:
    """The counts of the tokens ``records`` hold, from ``held`` (term key -> holders)."""
    kinds = tuple(kinds)
    counts: dict[tuple[str, bytes], int] = {}
    for record in records:
        for kind, key in term_keys(record, kinds).items():
            counts[(kind, record.tokens[kind])] = held.get(key, 0)
    return TermCounts(counts, total, floor)


def counted(
    records: Iterable[LinkRecord], kinds: Iterable[str], total: int, floor: float
) -> TermCounts:
    """The counts over ``records`` themselves, as the resolver ends with after streaming
    them (a batch run: benchmarks, diagnostics)."""
    kinds = tuple(kinds)
    counts = Counter((k, r.tokens[k]) for r in records for k in kinds if k in r.tokens)
    return TermCounts(counts, total, floor)
