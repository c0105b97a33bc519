"""The report's periods are whole quarters, named or given by their first and last days."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ConfigurationError
from earlylink.report.period import Period, parse_period

D = dt.date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025Q1", D(2025, 1, 1), D(2025, 3, 31)),
        ("2024q4", D(2024, 10, 1), D(2024, 12, 31)),
        ("2025", D(2025, 1, 1), D(2025, 12, 31)),
    ],
)
def test_named_periods(text: str, start: dt.date, end: dt.date) -> None:
    assert parse_period(text, None, None, None) == Period(start, end)


def test_dates_must_bound_whole_quarters() -> None:
    assert parse_period(None, D(2025, 4, 1), D(2025, 9, 30), None).label == "2025Q2 to 2025Q3"
    for start, end in [(D(2025, 4, 2), D(2025, 6, 30)), (D(2025, 4, 1), D(2025, 6, 29))]:
        with pytest.raises(ConfigurationError, match="whole quarters"):
            parse_period(None, start, end, None)
    with pytest.raises(ConfigurationError, match="whole quarters"):
        parse_period(None, D(2025, 7, 1), D(2025, 3, 31), None)


def test_default_is_the_latest_quarter_with_data_and_errors_are_clear() -> None:
    assert parse_period(None, None, None, D(2025, 8, 17)) == Period(D(2025, 7, 1), D(2025, 9, 30))
    with pytest.raises(ConfigurationError, match="no service contacts"):
        parse_period(None, None, None, None)
    with pytest.raises(ConfigurationError, match="not both"):
        parse_period("2025Q1", D(2025, 1, 1), None, None)
    with pytest.raises(ConfigurationError, match="go together"):
        parse_period(None, D(2025, 1, 1), None, None)
    with pytest.raises(ConfigurationError, match="2025Q1"):
        parse_period("Q1 2025", None, None, None)


def test_quarters_of_a_period() -> None:
    year = Period(D(2024, 10, 1), D(2025, 9, 30))
    assert year.quarters() == [D(2024, 10, 1), D(2025, 1, 1), D(2025, 4, 1), D(2025, 7, 1)]
