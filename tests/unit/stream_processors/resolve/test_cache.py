"""The resolver's record cache stays within its capacity and only answers for the right version."""

from __future__ import annotations

from typing import Any

import pytest

from stream_processors.resolve.cache import RecordCache


def _record(n: int) -> Any:
    return ("record", n)  # the cache does not look inside records


def test_bounded_first_in_first_out() -> None:
    cache = RecordCache(3)
    for n in range(10):
        cache.put(f"k{n}", 1, _record(n))
    assert len(cache) == 3
    assert cache.get("k6", 1) is None
    assert cache.get("k9", 1) == _record(9)


def test_a_put_again_moves_to_the_back() -> None:
    cache = RecordCache(2)
    cache.put("a", 1, _record(1))
    cache.put("b", 1, _record(2))
    cache.put("a", 2, _record(3))  # a newer version of a: now the newest entry
    cache.put("c", 1, _record(4))
    assert cache.get("b", 1) is None
    assert cache.get("a", 2) == _record(3)


def test_only_the_cached_version_is_returned() -> None:
    cache = RecordCache(5)
    cache.put("a", 1, _record(1))
    assert cache.get("a", 2) is None
    assert cache.get("a", 1) == _record(1)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RecordCache(0)
