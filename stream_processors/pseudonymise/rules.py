"""What the pseudonymiser accepts for linkage beyond the contract: plausible ages per role, the
postal codes it takes (UK postcodes only, by default), and the local identifier schemes several
sources share.

A ``local_ids`` scheme is unused for linkage unless it is declared shared. A shared scheme's
values are normalised (white space and hyphens out, upper case), checked against its format
(a regular expression and optionally a check digit), and tokenised with a key of their own.
A scheme declared unique per person (one person, one value; one value, one person) makes two
different valid values a cannot-link constraint, like NHS numbers; for the others a value in
common is evidence, and a value one edit away is weaker evidence (``near``).

Pure: ``rules_from`` turns the settings (``EARLYLINK_LINKAGE_*``) into these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import LinkageSettings

NOT_ID_CHARS = re.compile(r"[\s-]+")
CHECKS = ("none", "mod11", "luhn")


def _mod11(value: str) -> bool:
    """NHS-number style: weights 10..2 on the leading digits, 11 - sum mod 11 is the last."""
    if not value.isdigit() or len(value) < 2:
        return False
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * w for d, w in zip(body, range(len(body) + 1, 1, -1), strict=True))
    expected = 11 - total % 11
    expected = 0 if expected == 11 else expected
    return expected != 10 and expected == check


def _luhn(value: str) -> bool:
    if not value.isdigit() or len(value) < 2:
        return False
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(value)):
        total += digit if i % 2 == 0 else (digit * 2 - 9 if digit > 4 else digit * 2)
    return total % 10 == 0


@dataclass(frozen=True)
class SharedScheme:
    """One local identifier scheme that sources share."""

    name: str
    pattern: re.Pattern[str] | None = None
    check: str = "none"
    unique: bool = True
    near: bool = False  # also tokens of one-edit variants (only for schemes not unique)

    def normalise(self, raw: str) -> str | None:
        """The canonical value, or None when it does not have the scheme's format."""
        value = NOT_ID_CHARS.sub("", raw).upper()
        if not value:
            return None
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return None
        if self.check == "mod11" and not _mod11(value):
            return None
        if self.check == "luhn" and not _luhn(value):
            return None
        return value


@dataclass(frozen=True)
class Rules:
    """Plausible ages by role (for dates of birth) and the shared identifier schemes."""

    child_days: tuple[int, int] = (-300, 7 * 366)  # unborn (~10 months ahead) to 7 years
    adult_days: tuple[int, int] = (11 * 365, 90 * 366)
    shared: dict[str, SharedScheme] = field(default_factory=dict)
    uk_postcodes_only: bool = True  # else another country's postal code is kept whole

    def plausible_dob_age(self, role: str, age_days: int) -> bool:
        low, high = self.child_days if role == "CHILD" else self.adult_days
        return low <= age_days <= high


DEFAULT_RULES = Rules()


def rules_from(settings: LinkageSettings) -> Rules:
    """The rules the settings describe."""
    shared = {
        s.scheme: SharedScheme(
            s.scheme,
            re.compile(s.format) if s.format else None,
            s.check,
            s.unique,
            s.near if s.near is not None else not s.unique,
        )
        for s in settings.shared_ids
    }
    child, adult = settings.child_age_years, settings.adult_age_years
    return Rules(
        child_days=_days(child) if child else DEFAULT_RULES.child_days,
        adult_days=_days(adult) if adult else DEFAULT_RULES.adult_days,
        shared=shared,
        uk_postcodes_only=settings.postcodes == "uk",
    )


def _days(years: tuple[float, float]) -> tuple[int, int]:
    return round(years[0] * 365.25), round(years[1] * 365.25)
