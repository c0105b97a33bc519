"""Blocking: which record pairs are worth scoring, by rules held as data.

A rule names token kinds, one or more per part, like Splink's ``block_on``: two records meet
in a block when, for every part, they hold the same token of one of the part's kinds (a
multi-valued kind, such as former family names, gives one key per value; ``null`` among a
part's kinds makes the part optional: a record without it is keyed as "absent"). ``unordered``
rules ignore which part a token came from (names recorded in each other's fields). The
``shared_ids`` rule keys each shared identifier scheme's values; an ``lsh`` rule adds bands of
a Bloom encoding's bits (``Lsh``): fuzzy blocking on the encodings, with no value needed.
Keys are digests of the rule, the record's role (children and adults are never one person, so
never one block) and the tokens: they can be compared, never read back.

Two records are a candidate pair when they share a key held by at most ``cap`` records. A key
past the cap says too little to be worth its pairs (a common name on a common date); the
resolver re-evaluates the records of a key that crosses the cap either way (``stream_
processors.resolve_agent``), so the pairs scored never depend on the order records arrived in.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from hashlib import blake2b
from typing import Any

from stream_processors.pseudonymise.bloom import FOLDED_BYTES
from stream_processors.resolve.records import LinkRecord

MAX_KEYS_PER_RULE = 16  # multi-valued parts multiply: a record's keys stay bounded


@dataclass(frozen=True)
class Lsh:
    """Locality-sensitive hashing of a Bloom encoding by bit sampling (Karapiperis & Verykios'
    HLSH): ``bands`` sets of ``bits`` positions, the same for every record (drawn from the
    rule's name); two encodings that agree on every sampled bit of a band share its key. Two
    encodings d bits apart agree on a band with probability (1 - d/n)^bits, so similar values
    meet in some band and dissimilar ones rarely. Positions are not secret: the encodings are
    keyed, and the keys made of their bits are digested like every other key."""

    encoding: str
    bands: int
    bits: int
    seed: str

    def __post_init__(self) -> None:
        if not (1 <= self.bands <= 64 and 1 <= self.bits <= 64):
            raise ValueError("lsh: bands and bits must be 1 to 64")

    @cached_property
    def positions(self) -> tuple[tuple[int, ...], ...]:
        rng = random.Random(f"{self.seed}|{self.encoding}")  # noqa: S311 - public, fixed sampling
        width = FOLDED_BYTES * 8
        return tuple(tuple(sorted(rng.sample(range(width), self.bits))) for _ in range(self.bands))

    @cached_property
    def _masks(self) -> tuple[int, ...]:
        return tuple(sum(1 << p for p in ps) for ps in self.positions)

    def bands_of(self, record: LinkRecord) -> list[bytes]:
        """One value per band: the band's number and the encoding's bits at its positions."""
        encoded = record.encodings.get(self.encoding)
        if encoded is None:
            return []
        value = int.from_bytes(encoded, "little")
        return [
            bytes([band]) + (value & mask).to_bytes(FOLDED_BYTES, "little")
            for band, mask in enumerate(self._masks)
        ]


@dataclass(frozen=True)
class BlockingRule:
    name: str
    parts: tuple[tuple[str | None, ...], ...] = ()  # None: the part may be absent
    unordered: bool = False
    shared_ids: bool = False
    lsh: Lsh | None = None
    roles: frozenset[str] = frozenset()  # only records of these roles (empty: every record)
    spec: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def prefixes(self) -> dict[bool, bytes]:
        """What every key of the rule starts with, for adults (False) and children (True)."""
        return {
            child: f"earlylink-block|{self.name}|{'child' if child else 'adult'}|".encode()
            for child in (False, True)
        }

    @cached_property
    def _plain(self) -> tuple[str, ...] | None:
        """The kinds of a rule whose every part is one kind, required (most rules): a record's
        key values are then its tokens of those kinds, read without forming each part's
        options and their product (``values``, once per rule for every record decoded)."""
        if self.shared_ids or any(len(part) != 1 or part[0] is None for part in self.parts):
            return None
        return tuple(str(part[0]) for part in self.parts)

    def values(self, record: LinkRecord) -> list[tuple[bytes, ...]]:
        """The token combinations this rule keys the record by."""
        if self.roles and record.role not in self.roles:
            return []
        if self.shared_ids:
            return [
                (kind.encode(), token)
                for kind, tokens in sorted(record.shared_ids.items())
                for token in sorted(tokens)
            ]
        plain = self._plain
        if plain is not None and record.multi.keys().isdisjoint(plain):
            found = []
            for kind in plain:
                token = record.tokens.get(kind)
                if token is None:
                    return []
                found.append(token)
            combinations = [tuple(found)]
        else:
            options = [self._part(record, kinds) for kinds in self.parts]
            if not all(options):
                return []
            combinations = list(itertools.islice(itertools.product(*options), MAX_KEYS_PER_RULE))
        if self.lsh is not None:
            bands = self.lsh.bands_of(record)
            return [(*combination, band) for combination in combinations for band in bands]
        if self.unordered:
            return [tuple(sorted(combination)) for combination in combinations]
        return combinations

    @staticmethod
    def _part(record: LinkRecord, kinds: tuple[str | None, ...]) -> list[bytes]:
        if len(kinds) == 1 and kinds[0] is not None and kinds[0] not in record.multi:
            token = record.tokens.get(kinds[0])  # one single-valued kind: most parts
            return [] if token is None else [token]
        found = {record.tokens[k] for k in kinds if k and k in record.tokens}
        found |= {v for k in kinds if k for v in record.multi.get(k, ())}
        if not found and None in kinds:
            return [b""]  # an optional part: absent on this record
        return sorted(found)


def rule_from(spec: dict[str, Any]) -> BlockingRule:
    name = spec["name"]
    if spec.get("shared_ids"):
        return BlockingRule(name, shared_ids=True, spec=dict(spec))
    parts = tuple(tuple(None if k is None else str(k) for k in part) for part in spec["on"])
    if not parts or any(not part for part in parts):
        raise ValueError(f"blocking rule {name!r}: 'on' needs parts, each naming token kinds")
    lsh = None
    if "lsh" in spec:
        given = spec["lsh"]
        lsh = Lsh(str(given["encoding"]), int(given["bands"]), int(given["bits"]), name)
    roles = frozenset(str(r) for r in spec.get("roles", ()))
    return BlockingRule(
        name, parts, bool(spec.get("unordered")), lsh=lsh, roles=roles, spec=dict(spec)
    )


def _digest(prefix: bytes, values: tuple[bytes, ...]) -> bytes:
    """A key: the rule and role (``prefix``) and the values, each after its length (values are
    at most 65 bytes: tokens, or an LSH band), so no two lists of values join the same."""
    hashed = _seeded(prefix).copy()  # the prefix hashed once: a third less per key
    for value in values:
        hashed.update(_LENGTHS[len(value)])
        hashed.update(value)
    return hashed.digest()


@lru_cache(maxsize=1024)  # two per rule (adults, children); bounded, as rule names are not
def _seeded(prefix: bytes) -> blake2b:
    """A BLAKE2b state that has taken ``prefix`` (copied, never updated itself)."""
    return blake2b(prefix, digest_size=16)


_LENGTHS = [bytes([n]) for n in range(256)]


def keys_of(record: LinkRecord, rules: Sequence[BlockingRule]) -> tuple[bytes, ...]:
    """The record's blocking keys under ``rules``, sorted, without repeats."""
    child = record.is_child
    found = set()
    for rule in rules:
        prefix = rule.prefixes[child]
        for values in rule.values(record):
            found.add(_digest(prefix, values))
    return tuple(sorted(found))


def blocks(records: Sequence[LinkRecord], rules: Sequence[BlockingRule]) -> dict[bytes, list[int]]:
    """Blocking key -> indexes of the records holding it."""
    groups: dict[bytes, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for key in keys_of(record, rules):
            groups[key].append(i)
    return groups


def crossed_cap(
    after: dict[bytes, int], removed: Counter[bytes], added: Counter[bytes], cap: int
) -> list[bytes]:
    """Keys whose block crossed the cap either way when ``removed`` holders left and ``added``
    ones joined (``after``: the sizes now): every holder of such a key must be scored again (a
    redo), since pairs through it now are, or are no longer, candidates. Without this the
    first ``cap`` records to arrive would keep pairs a batch run over the same records never
    makes."""
    moved = []
    for key in sorted(set(removed) | set(added)):
        now = after.get(key, 0)
        then = now + removed.get(key, 0) - added.get(key, 0)
        if (then <= cap) != (now <= cap):
            moved.append(key)
    return moved


def candidate_pairs(
    records: Sequence[LinkRecord], rules: Sequence[BlockingRule], cap: int
) -> list[tuple[int, int]]:
    """Index pairs (i < j) sharing a key held by at most ``cap`` records."""
    pairs = {
        (a, b)
        for members in blocks(records, rules).values()
        if len(members) <= cap
        for x, a in enumerate(members)
        for b in members[x + 1 :]
    }
    return sorted(pairs)


def pairs_in_blocks(
    keys: Mapping[str, Sequence[bytes]], members: Mapping[bytes, tuple[int, list[str] | None]]
) -> list[tuple[str, str]]:
    """The candidate pairs of the records ``keys`` (record -> its blocking keys) through the
    stored blocks (key -> (size, members, or None past the cap)): each record with every other
    member of each of its blocks within the cap. Each pair once, the smaller key first, in the
    order first met (a pair shares ~6 keys on average: they were scored once, but each was
    sorted and looked up again)."""
    pairs: dict[tuple[str, str], None] = {}
    for key, tokens in keys.items():
        for token in tokens:
            for other in members.get(token, (0, None))[1] or ():
                if other != key:
                    pairs[(key, other) if key < other else (other, key)] = None
    return list(pairs)
