"""Kafka timestamps as the stages keep them: a producer sets its own, any value."""

from __future__ import annotations

import datetime as dt

import pytest

from sink.ledger import _row
from sink.rows import LedgerEntry, Outcome
from stream_processors.messages import kafka_timestamp_ms


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1_750_000_000.123, 1_750_000_000_123),
        (None, None),
        (0.0, None),
        (-5.0, None),  # before 1970
        (2**62 / 1000, None),  # past the year 9999: no datetime holds it
        (253_402_300_799.999, 253_402_300_799_999),  # the last millisecond of 9999
    ],
)
def test_kafka_timestamps_outside_what_a_date_holds_are_dropped(
    seconds: float | None, expected: int | None
) -> None:
    assert kafka_timestamp_ms(seconds) == expected


def test_a_ledger_row_takes_every_timestamp_the_stage_keeps() -> None:
    entry = LedgerEntry("raw", 0, 1, Outcome.PSEUDONYMISED)
    last = kafka_timestamp_ms(253_402_300_799.999)
    assert _row(entry, last)[9] == dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=dt.UTC)
    assert _row(entry, kafka_timestamp_ms(2**62 / 1000))[9] is None


def test_a_replayed_dead_letter_is_known_by_its_header() -> None:
    from stream_processors.pseudonymise_agent import replayed_from

    assert (
        replayed_from([("x", b"1"), ("replayed-from", b"p.deadletter:0:7")]) == "p.deadletter:0:7"
    )
    assert replayed_from({"replayed-from": b"p.deadletter:1:2"}) == "p.deadletter:1:2"
    assert replayed_from(None) is None and replayed_from([("replayed-from", None)]) is None
    assert len(replayed_from([("replayed-from", b"x" * 500)]) or "") == 200
