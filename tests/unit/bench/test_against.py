"""``bench.against``: the order of the two trees within each round."""

from __future__ import annotations

from pathlib import Path

from bench.against import in_turn


def test_the_tree_that_goes_first_alternates_round_by_round() -> None:
    trees = {"base": Path("old"), "this": Path(".")}
    assert [list(in_turn(trees, r)) for r in (1, 2, 3, 4)] == [
        ["base", "this"],
        ["this", "base"],
        ["base", "this"],
        ["this", "base"],
    ]


def test_each_round_runs_both_trees_once() -> None:
    trees = {"base": Path("old"), "this": Path(".")}
    for round_ in range(1, 6):
        assert sorted(in_turn(trees, round_).items()) == sorted(trees.items())
