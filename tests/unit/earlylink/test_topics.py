"""When a created topic counts as served: every partition listed, each with a leader."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from earlylink.topics import _served


def _topic(leaders: list[int], error: Any = None) -> Any:
    partitions = {i: SimpleNamespace(leader=leader, error=None) for i, leader in enumerate(leaders)}
    return SimpleNamespace(error=error, partitions=partitions)


def test_every_partition_with_a_leader_is_served() -> None:
    assert _served(_topic([1, 1, 1, 1]), 4)


def test_missing_topic_partition_or_leader_is_not_served() -> None:
    assert not _served(None, 4)
    assert not _served(_topic([1, 1]), 4)
    assert not _served(_topic([1, -1, 1, 1]), 4)
    assert not _served(_topic([1, 1, 1, 1], error="UNKNOWN_TOPIC_OR_PART"), 4)
