"""The report's period: whole quarters only (``2025Q1``, a year ``2025``, or first and last
days of quarters), since any two dates would let a reader difference two nearly equal periods
down to the few persons between them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from core.errors import ConfigurationError

QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        first, last = quarter_label(self.start), quarter_label(self.end)
        return first if first == last else f"{first} to {last}"

    def quarters(self) -> list[dt.date]:
        """The first day of each quarter in the period."""
        out, day = [], self.start
        while day <= self.end:
            out.append(day)
            day = add_quarter(day)
        return out


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_quarter(start: dt.date) -> dt.date:
    month = start.month + 3
    return dt.date(start.year + (month > 12), (month - 1) % 12 + 1, 1)


def quarter_end(start: dt.date) -> dt.date:
    return add_quarter(quarter_start(start)) - dt.timedelta(days=1)


def quarter_label(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_period(
    period: str | None, start: dt.date | None, end: dt.date | None, latest: dt.date | None
) -> Period:
    """From ``--period`` or ``--from``/``--to``; with neither, the latest quarter with data."""
    if period is not None and (start is not None or end is not None):
        raise ConfigurationError("give --period, or --from and --to, not both")
    if period is not None:
        return _named(period.strip())
    if start is None and end is None:
        if latest is None:
            raise ConfigurationError("the store has no service contacts yet: nothing to report")
        first = quarter_start(latest)
        return Period(first, quarter_end(first))
    if start is None or end is None:
        raise ConfigurationError("--from and --to go together")
    if start != quarter_start(start) or end != quarter_end(end) or start > end:
        raise ConfigurationError(
            f"a period is whole quarters: --from the first day of one (e.g."
            f" {quarter_start(start)}) --to the last day of one (e.g. {quarter_end(end)});"
            " other dates would let two reports be differenced down to a few persons"
        )
    return Period(start, end)


def _named(text: str) -> Period:
    if match := QUARTER.match(text):
        first = dt.date(int(match[1]), 3 * int(match[2]) - 2, 1)
        return Period(first, quarter_end(first))
    if match := YEAR.match(text):
        year = int(match[1])
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
    raise ConfigurationError(f"--period {text!r}: write a quarter like 2025Q1 or a year like 2025")
