"""The offline bench's borough measures: twins merged and renamed babies linked whole."""

from __future__ import annotations

import pytest

from bench.linkage_offline import Offline, twins_and_renamed

pytestmark = pytest.mark.unit


def test_renamed_babies_are_counted_among_those_with_records_in_the_data() -> None:
    # three renamed babies: one linked whole, one split, one with no record left (withdrawn)
    data = Offline(
        "borough",
        [],
        {"k1": "P1", "k2": "P1", "k3": "P2", "k4": "P2", "k5": "P3", "k6": "P4"},
        twins=frozenset({("P3", "P4")}),
        renamed=frozenset({"P1", "P2", "P9"}),
    )
    predicted = {"k1": "a", "k2": "a", "k3": "b", "k4": "c", "k5": "d", "k6": "d"}
    assert twins_and_renamed(data, predicted) == (
        "1/1 twins merged, 1/2 renamed whole (1 with no record linked)"
    )
