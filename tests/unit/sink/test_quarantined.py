"""What the operator's quarantine commands read off a row."""

from __future__ import annotations

import datetime as dt

import pytest

from sink.quarantined import Quarantined


def _row(reason: str) -> Quarantined:
    now = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    return Quarantined("t", 0, 7, None, None, reason, now, None, None, b"")


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("KEY_VERSION_RETIRED: the store links under key version 2", "KEY_VERSION_RETIRED"),
        ("UNEVEN_TOKEN_SETS", "UNEVEN_TOKEN_SETS"),
        ("IndexError", "IndexError"),
        ("BAD_MAGIC: not Avro single-object encoding", "BAD_MAGIC"),
    ],
)
def test_a_reason_code_is_what_comes_before_its_detail(reason: str, code: str) -> None:
    assert _row(reason).code == code


def test_rows_order_by_position() -> None:
    assert _row("x").position == ("t", 0, 7)
