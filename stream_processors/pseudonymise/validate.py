"""Validation: which events cannot be used at all, and which fields must be left out.

Record-level reasons send the event to the dead-letter topic. Field-level issues drop one field
from linkage and are counted against the source's data quality; the record still links on the
rest ("reject records, not people").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemas.limits import MAX_ID_CHARS, MAX_LIST_ITEMS
from stream_processors.pseudonymise.checks import has_control_characters, usable_text
from stream_processors.pseudonymise.normalise import (
    Name,
    Postcode,
    fold,
    in_other_script,
    normalise_name,
    normalise_postcode,
)
from stream_processors.pseudonymise.rules import DEFAULT_RULES, Rules

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
    INVALID_SHARED_ID = "INVALID_SHARED_ID"
    CONFLICTING_SHARED_IDS = "CONFLICTING_SHARED_IDS"  # a unique scheme, two values, one record
    TOO_MANY_VALUES = "TOO_MANY_VALUES"  # a list past schemas.limits.MAX_LIST_ITEMS: left out
    INVALID_ID = "INVALID_ID"  # a related record's id: that relation is left out


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
    locality: str | None = None  # the town, when the source records it apart (v3)
    shared: dict[str, tuple[str, ...]] = field(default_factory=dict)  # scheme -> values
    related: list[tuple[str, str]] = field(default_factory=list)  # (relationship, record id)
    issues: list[tuple[str, FieldIssue]] = field(default_factory=list)
    transliterated: int = 0  # names written in another script, transliterated to Latin
    child: bool = False  # a child's record (children and adults never link: blocks keep apart)

    @property
    def identifying(self) -> bool:
        return any((self.nhs, self.upn, self.given, self.family, self.dob, self.shared))

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
            self.locality,
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


def plausible_dob(dob: dt.date, role: str, on: dt.date, rules: Rules = DEFAULT_RULES) -> bool:
    """By default a child is unborn (up to ~10 months ahead) to 7 years old, an adult 11 to 90,
    on the record's own date (``on``)."""
    return rules.plausible_dob_age(role, (on - dob).days)


def _text_issue(value: str) -> FieldIssue | None:
    if len(value) > MAX_FIELD_CHARS:
        return FieldIssue.FIELD_TOO_LONG
    if has_control_characters(value):
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


def clean_person(
    record: dict[str, Any], event_date: dt.date, rules: Rules = DEFAULT_RULES
) -> CleanPerson:
    """Normalise a decoded PersonRecord, dropping (and naming) every unusable field."""
    clean = CleanPerson(child=str(record.get("role")) == "CHILD")
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
        if plausible_dob(dob, str(record.get("role")), event_date, rules):
            clean.dob = dob
        else:
            issues.append(("date_of_birth", FieldIssue.IMPLAUSIBLE_DOB))
    postcode = _checked_text(record, "postcode", issues)
    if postcode is not None:
        clean.postcode = normalise_postcode(postcode, rules.uk_postcodes_only)
        if clean.postcode is None:
            issues.append(("postcode", FieldIssue.MALFORMED_POSTCODE))
    address = _checked_text(record, "address_line", issues)
    clean.address = fold(address) if address else None
    locality = _checked_text(record, "locality", issues)
    clean.locality = fold(locality) if locality else None
    _clean_shared_ids(record, clean, rules)
    _clean_related(record, clean)
    return clean


def bounded(record: dict[str, Any], name: str, issues: list[tuple[str, FieldIssue]]) -> list[Any]:
    """The list field ``name``, or none of it (and an issue) when it is past its limit."""
    values = list(record.get(name) or [])
    if len(values) > MAX_LIST_ITEMS[name]:
        issues.append((name, FieldIssue.TOO_MANY_VALUES))
        return []
    return values


def _clean_related(record: dict[str, Any], clean: CleanPerson) -> None:
    bad = False
    for related in bounded(record, "related", clean.issues):
        record_id = str(related["record_id"])
        if usable_text(record_id, MAX_ID_CHARS):
            clean.related.append((str(related["relationship"]), record_id))
        else:
            bad = True
    if bad:
        clean.issues.append(("related", FieldIssue.INVALID_ID))


def _clean_shared_ids(record: dict[str, Any], clean: CleanPerson, rules: Rules) -> None:
    """Values of the shared schemes, canonical and checked; other schemes are not used."""
    found: dict[str, list[str]] = {}
    bad: set[str] = set()
    for local in bounded(record, "local_ids", clean.issues):
        scheme = rules.shared.get(local["scheme"])
        if scheme is None:
            continue
        raw = str(local["value"])
        value = scheme.normalise(raw) if _text_issue(raw) is None else None
        if value is None:
            bad.add(scheme.name)
        elif value not in found.setdefault(scheme.name, []):
            found[scheme.name].append(value)
    for name in sorted(bad):
        clean.issues.append((f"local_ids.{name}", FieldIssue.INVALID_SHARED_ID))
    for name, values in sorted(found.items()):
        if not values:
            continue
        if rules.shared[name].unique and len(values) > 1:
            clean.issues.append((f"local_ids.{name}", FieldIssue.CONFLICTING_SHARED_IDS))
            continue
        clean.shared[name] = tuple(values)


def _clean_names(record: dict[str, Any], clean: CleanPerson) -> None:
    given_raw = _checked_text(record, "given_names", clean.issues)
    if given_raw is not None:
        clean.given = normalise_name(given_raw)
        clean.transliterated += bool(clean.given and in_other_script(given_raw))
        if clean.given is None:
            clean.issues.append(("given_names", FieldIssue.PLACEHOLDER_NAME))
    family_raw = _checked_text(record, "family_name", clean.issues)
    if family_raw is not None:
        clean.family = normalise_name(family_raw, is_family=True)
        clean.transliterated += bool(clean.family and in_other_script(family_raw))
        if clean.family is None:
            clean.issues.append(("family_name", FieldIssue.PLACEHOLDER_NAME))
    for former in bounded(record, "former_family_names", clean.issues):
        if _text_issue(former) is None:
            name = normalise_name(former, is_family=True)
            if name is not None:
                clean.former.append(name)
