"""The processors' cycle-collector thresholds are set from their settings."""

from __future__ import annotations

import gc

from stream_processors.app import tune_gc


def test_tune_gc_sets_the_thresholds_and_returns_the_previous_ones() -> None:
    before = gc.get_threshold()
    try:
        assert tune_gc((12_345, 6, 78)) == before
        assert gc.get_threshold() == (12_345, 6, 78)
    finally:
        gc.set_threshold(*before)
