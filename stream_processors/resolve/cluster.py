"""Deterministic clustering of one connected component, and stable person ids.

Edges are taken strongest first (ties by record keys); two clusters merge along an edge unless
some pair across them cannot be one person. The result depends only on the component's records
and edges, never on arrival order, so re-clustering the component a record touches gives what a
batch run over all records would.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Edge = tuple[str, str, float]


def cluster(
    keys: Iterable[str], edges: Iterable[Edge], forbidden: Callable[[str, str], bool]
) -> list[frozenset[str]]:
    """Partition ``keys`` by the edges, never joining a forbidden pair."""
    members: dict[str, set[str]] = {k: {k} for k in sorted(set(keys))}
    root = {k: k for k in members}

    def find(k: str) -> str:
        while root[k] != k:
            root[k] = root[root[k]]
            k = root[k]
        return k

    for a, b, _ in sorted(edges, key=lambda e: (-round(e[2], 9), min(e[0], e[1]), max(e[0], e[1]))):
        if a not in root or b not in root:
            continue
        ra, rb = find(a), find(b)
        if ra == rb or any(forbidden(x, y) for x in members[ra] for y in members[rb]):
            continue
        keep, gone = sorted((ra, rb))
        root[gone] = keep
        members[keep] |= members.pop(gone)
    return sorted((frozenset(m) for m in members.values()), key=lambda c: min(c))


def new_person_id(cluster_keys: frozenset[str], unavailable: set[str]) -> str:
    """A person id derived from the membership itself (same members, same id), salted past
    any id that is unavailable (in use, or kept by another cluster)."""
    salt = 0
    while True:
        text = "|".join(sorted(cluster_keys)) + (f"#{salt}" if salt else "")
        person = f"P{hashlib.sha256(text.encode()).hexdigest()[:19]}"
        if person not in unavailable:
            return person
        salt += 1


@dataclass
class Assignment:
    """Person ids for a component's clusters, and what changed."""

    persons: dict[str, frozenset[str]] = field(default_factory=dict)  # person id -> records
    merges: list[tuple[list[str], str]] = field(default_factory=list)  # (old ids, survivor)
    splits: list[tuple[str, list[str]]] = field(default_factory=list)  # (old id, new ids)
    retired: list[str] = field(default_factory=list)  # ids no longer in use at all
    aliases: dict[str, str] = field(default_factory=dict)  # merged-away id -> survivor


def assign_ids(
    clusters: list[frozenset[str]],
    previous: dict[str, str],
    in_use_elsewhere: frozenset[str] = frozenset(),
) -> Assignment:
    """Keep each cluster's most common previous id where it can (biggest clusters first).

    An old id that no cluster keeps becomes an alias of the cluster that took most of its
    records (a merge), or is retired when none of its records remain.
    """
    result = Assignment()
    taken: set[str] = set()
    unavailable = set(previous.values()) | set(in_use_elsewhere)
    votes_of: dict[str, Counter[str]] = {}
    for members in sorted(clusters, key=lambda c: (-len(c), min(c))):
        votes = Counter(previous[k] for k in members if k in previous)
        choice = next(
            (
                pid
                for pid, _ in sorted(votes.items(), key=lambda v: (-v[1], v[0]))
                if pid not in taken
            ),
            None,
        )
        person = choice or new_person_id(members, unavailable | taken)
        taken.add(person)
        result.persons[person] = members
        votes_of[person] = votes
    absorbed: dict[str, tuple[int, str]] = {}  # old id -> (records, person that took them)
    for person, votes in sorted(votes_of.items()):
        for old, count in votes.items():
            if old not in taken and (old not in absorbed or count > absorbed[old][0]):
                absorbed[old] = (count, person)
    result.aliases = {old: person for old, (_, person) in sorted(absorbed.items())}
    for person, votes in sorted(votes_of.items()):
        merged = sorted(old for old in votes if result.aliases.get(old) == person)
        if merged:
            result.merges.append((sorted({*merged, *(p for p in votes if p == person)}), person))
    by_old: dict[str, set[str]] = {}
    for person, members in result.persons.items():
        for key in members:
            if key in previous:
                by_old.setdefault(previous[key], set()).add(person)
    result.splits = [(old, sorted(new)) for old, new in sorted(by_old.items()) if len(new) > 1]
    result.retired = sorted(set(previous.values()) - taken - set(result.aliases))
    return result
