"""Which Kafka errors the lag probes wait out, and lag arithmetic."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from stream_processors.lag import PartitionLag, lag_of, transient


@pytest.mark.parametrize(
    "code",
    [KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError._TRANSPORT],
)
def test_leader_elections_and_lost_connections_are_waited_out(code: int) -> None:
    assert transient(KafkaException(KafkaError(code)))


@pytest.mark.parametrize(
    "code", [KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.UNKNOWN_TOPIC_OR_PART]
)
def test_permanent_errors_are_raised_at_once(code: int) -> None:
    assert not transient(KafkaException(KafkaError(code)))


def test_lag_never_negative_and_missing_commit_counts_from_zero() -> None:
    rows = lag_of({0: 10, 1: 7}, {0: 12, 1: 5, 2: 3}, "t")
    assert [r.lag for r in rows] == [2, 0, 3]
    assert rows[2] == PartitionLag("t", 2, 0, 3)
