"""Validation: which events cannot be used at all, and which fields must be left out.

Record-level reasons send the event to the dead-letter topic. Field-level issues drop one field
from linkage and are counted against the source's data quality; the record still links on the
rest ("reject records, not people").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from stream_processors.pseudonymise.normalise import (
    Name,
    Postcode,
    fold,
    normalise_name,
    normalise_postcode,
)

MAX_FIELD_CHARS = 100
FUTURE_TOLERANCE = dt.timedelta(minutes=10)
NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


class RecordReason(StrEnum):
    """Dead-letter reasons found after decoding (decoding has its own, schemas.wire)."""

    FOREIGN_SCHEMA = "FOREIGN_SCHEMA"
    EVENT_TIME_IN_FUTURE = "EVENT_TIME_IN_FUTURE"
    NO_IDENTIFYING_FIELD = "NO_IDENTIFYING_FIELD"


class FieldIssue(StrEnum):
    INVALID_NHS_NUMBER = "INVALID_NHS_NUMBER"
    INVALID_UPN = "INVALID_UPN"
    IMPLAUSIBLE_DOB = "IMPLAUSIBLE_DOB"
    MALFORMED_POSTCODE = "MALFORMED_POSTCODE"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    CONTROL_CHARACTERS = "CONTROL_CHARACTERS"
    PLACEHOLDER_NAME = "PLACEHOLDER_NAME"


FIELDS = (
    "nhs_number",
    "unique_pupil_number",
    "given_names",
    "family_name",
    "date_of_birth",
    "postcode",
    "address_line",
)


@dataclass
class CleanPerson:
    """The usable identifying fields of one person record, normalised."""

    nhs: str | None = None
    upn: str | None = None
    given: Name | None = None
    family: Name | None = None
    former: list[Name] = field(default_factory=list)
    dob: dt.date | None = None
    postcode: Postcode | None = None
    address: str | None = None
    issues: list[tuple[str, FieldIssue]] = field(default_factory=list)

    @property
    def identifying(self) -> bool:
        return any((self.nhs, self.upn, self.given, self.family, self.dob))

    @property
    def present_mask(self) -> int:
        """Bit i set when FIELDS[i] is usable (for completeness figures)."""
        values = (
            self.nhs,
            self.upn,
            self.given,
            self.family,
            self.dob,
            self.postcode,
            self.address,
        )
        return sum(1 << i for i, value in enumerate(values) if value)


def valid_nhs(value: str) -> bool:
    if len(value) != 10 or not value.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(value, NHS_WEIGHTS, strict=False)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(value[9])


def valid_upn(value: str) -> bool:
    if len(value) != 13 or value[0] not in UPN_LETTERS or not value[1:].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[1:], range(2, 14), strict=True))
    return UPN_LETTERS[total % 23] == value[0]


def plausible_dob(dob: dt.date, role: str, on: dt.date) -> bool:
    """A child is unborn (up to ~10 months ahead) to 7 years old; an adult 11 to 90."""
    age_days = (on - dob).days
    if role == "CHILD":
        return -300 <= age_days <= 7 * 366
    return 11 * 365 <= age_days <= 90 * 366


def _text_issue(value: str) -> FieldIssue | None:
    if len(value) > MAX_FIELD_CHARS:
        return FieldIssue.FIELD_TOO_LONG
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        return FieldIssue.CONTROL_CHARACTERS
    return None


def _checked_text(
    record: dict[str, Any], name: str, issues: list[tuple[str, FieldIssue]]
) -> str | None:
    value = record.get(name)
    if value is None or not str(value).strip():
        return None
    problem = _text_issue(str(value))
    if problem:
        issues.append((name, problem))
        return None
    return str(value)


def clean_person(record: dict[str, Any], event_date: dt.date) -> CleanPerson:
    """Normalise a decoded PersonRecord, dropping (and naming) every unusable field."""
    clean = CleanPerson()
    issues = clean.issues
    nhs = _checked_text(record, "nhs_number", issues)
    if nhs is not None:
        digits = re.sub(r"[\s-]", "", nhs)
        if valid_nhs(digits):
            clean.nhs = digits
        else:
            issues.append(("nhs_number", FieldIssue.INVALID_NHS_NUMBER))
    upn = _checked_text(record, "unique_pupil_number", issues)
    if upn is not None:
        if valid_upn(upn.strip().upper()):
            clean.upn = upn.strip().upper()
        else:
            issues.append(("unique_pupil_number", FieldIssue.INVALID_UPN))
    _clean_names(record, clean)
    dob = record.get("date_of_birth")
    if dob is not None:
        if plausible_dob(dob, str(record.get("role")), event_date):
            clean.dob = dob
        else:
            issues.append(("date_of_birth", FieldIssue.IMPLAUSIBLE_DOB))
    postcode = _checked_text(record, "postcode", issues)
    if postcode is not None:
        clean.postcode = normalise_postcode(postcode)
        if clean.postcode is None:
            issues.append(("postcode", FieldIssue.MALFORMED_POSTCODE))
    address = _checked_text(record, "address_line", issues)
    clean.address = fold(address) if address else None
    return clean


def _clean_names(record: dict[str, Any], clean: CleanPerson) -> None:
    given_raw = _checked_text(record, "given_names", clean.issues)
    if given_raw is not None:
        clean.given = normalise_name(given_raw)
        if clean.given is None:
            clean.issues.append(("given_names", FieldIssue.PLACEHOLDER_NAME))
    family_raw = _checked_text(record, "family_name", clean.issues)
    if family_raw is not None:
        clean.family = normalise_name(family_raw, is_family=True)
        if clean.family is None:
            clean.issues.append(("family_name", FieldIssue.PLACEHOLDER_NAME))
    for former in record.get("former_family_names") or []:
        if _text_issue(former) is None:
            name = normalise_name(former, is_family=True)
            if name is not None:
                clean.former.append(name)
