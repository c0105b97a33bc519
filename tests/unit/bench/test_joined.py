"""``joined``: true pairs a clustering resolver can still put together through blocked pairs."""

from __future__ import annotations

from bench.linkage_quality import joined


def test_two_copies_of_one_original_are_joined_through_it() -> None:
    truth = {"org": "p", "dup1": "p", "dup2": "p", "other": "q"}
    candidates = {("dup1", "org"), ("dup2", "org")}  # the copies share no block themselves
    assert joined(truth, candidates) == 1.0


def test_a_path_through_a_false_pair_does_not_join() -> None:
    truth = {"a": "p", "b": "p", "c": "q"}
    candidates = {("a", "c"), ("b", "c")}  # a and b meet only through another person's record
    assert joined(truth, candidates) == 0.0


def test_a_record_blocked_with_nobody_of_its_own_is_not_joined() -> None:
    truth = {"org": "p", "dup1": "p", "dup2": "p"}
    candidates = {("dup1", "org")}
    assert joined(truth, candidates) == 1 / 3
