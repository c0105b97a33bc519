"""Deterministic clustering and stable person ids."""

from __future__ import annotations

import random

from stream_processors.resolve.cluster import assign_ids, cluster, new_person_id

EDGES = [("a", "b", 20.0), ("b", "c", 15.0), ("c", "d", 5.0), ("e", "f", 9.0)]


def never(a: str, b: str) -> bool:
    return False


def test_components_become_clusters() -> None:
    parts = cluster("abcdefg", EDGES, never)
    assert parts == [frozenset("abcd"), frozenset("ef"), frozenset("g")]


def test_forbidden_pairs_stop_chaining() -> None:
    def forbidden(x: str, y: str) -> bool:
        return {x, y} == {"a", "d"}

    parts = cluster("abcd", EDGES[:3], forbidden)
    assert parts == [frozenset("abc"), frozenset("d")]  # the weakest edge gives way


def test_edge_order_does_not_matter() -> None:
    def forbidden(x: str, y: str) -> bool:
        return {x, y} == {"a", "c"}

    expected = cluster("abcdef", EDGES, forbidden)
    for seed in range(20):
        shuffled = EDGES[:]
        random.Random(seed).shuffle(shuffled)
        flipped = [(b, a, w) if seed % 2 else (a, b, w) for a, b, w in shuffled]
        assert cluster("fedcba", flipped, forbidden) == expected


def test_ids_are_kept_merged_split_and_retired() -> None:
    previous = {"a": "P1", "b": "P1", "c": "P2", "d": "P3", "e": "P3", "x": "P9"}
    result = assign_ids([frozenset("abc"), frozenset("d"), frozenset("e")], previous)
    assert result.persons["P1"] == frozenset("abc")  # kept by the biggest share
    assert result.aliases == {"P2": "P1"}
    assert result.merges == [(["P1", "P2"], "P1")]
    assert ("P3", sorted(p for p, m in result.persons.items() if m & {"d", "e"})) in result.splits
    assert "P3" in result.persons  # one part of the split keeps the id
    assert result.retired == ["P9"]  # x is gone (withdrawn or retracted)


def test_new_ids_are_derived_from_membership_and_avoid_used_ones() -> None:
    members = frozenset({"k1", "k2"})
    first = new_person_id(members, set())
    assert first == new_person_id(members, set())
    assert new_person_id(members, {first}) != first
    result = assign_ids([members], {}, frozenset({first}))
    assert list(result.persons) == [new_person_id(members, {first})]
