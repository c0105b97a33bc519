"""Record-level checks of a decoded event, before any of its identifiers is used.

The Avro contract says which fields exist and their types; it does not say that an id is not
empty, that a code has no NUL in it (PostgreSQL text cannot hold one), or that a version stays
below the tombstones' (``schemas.limits.FINAL_VERSION``). An event failing one of these is
dead-lettered with the reason and the field's name (never its value).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemas.limits import FINAL_VERSION, MAX_CODE_CHARS, MAX_ID_CHARS


class EventReason(StrEnum):
    MISSING_ID = "MISSING_ID"  # a required id is empty or blank
    INVALID_ID = "INVALID_ID"  # an id too long or with control characters
    INVALID_SOURCE = "INVALID_SOURCE"  # the envelope's source system is unusable
    INVALID_FIELD = "INVALID_FIELD"  # a code or score PostgreSQL or analysts cannot use
    VERSION_OUT_OF_RANGE = "VERSION_OUT_OF_RANGE"  # negative, or at or past FINAL_VERSION
    UNREGISTERED_SOURCE = "UNREGISTERED_SOURCE"  # not in the register (earlylink sources)
    SOURCE_DISABLED = "SOURCE_DISABLED"  # in the register, disabled
    SOURCE_MISMATCH = "SOURCE_MISMATCH"  # not the source whose own topic it came on, or the
    # name of a source with its own topic, on another topic


@dataclass(frozen=True)
class Problem:
    reason: EventReason
    field: str


# per event type: required ids, then code fields (name -> required)
REQUIRED_IDS: dict[str, tuple[str, ...]] = {
    "PersonRecord": ("record_id",),
    "ServiceContact": ("contact_id", "person_record_id"),
    "OutcomeMeasure": ("measure_id", "person_record_id"),
    "ConsentChange": ("person_record_id",),
    "RecordRetraction": ("record_id",),
}
CODES: dict[str, dict[str, bool]] = {
    "ServiceContact": {"service_code": True, "activity_code": True, "location_code": False},
    "OutcomeMeasure": {"tool_code": True, "domain": False},
}


def has_control_characters(value: str) -> bool:
    """Control and format characters (NUL, escapes, bidi overrides) anywhere in ``value``."""
    if value.isprintable():  # in C, and true of nearly every value: none of Cc or Cf in it
        return False
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in value)


def usable_text(value: str, max_chars: int) -> bool:
    return bool(value.strip()) and len(value) <= max_chars and not has_control_characters(value)


# a source system's name: letters, digits and a few separators (it is shown on pages and in
# reports, and keys the records of that source)
SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:/-]*")


def source_problem(source: str) -> Problem | None:
    if not usable_text(source, MAX_CODE_CHARS) or not SOURCE_NAME.fullmatch(source):
        return Problem(EventReason.INVALID_SOURCE, "source_system")
    return None


def event_problem(event_type: str, record: dict[str, Any]) -> Problem | None:
    """The first reason ``record`` (of ``event_type``) cannot be used at all, or None."""
    for name in REQUIRED_IDS.get(event_type, ()):
        value = str(record.get(name) or "")
        if not value.strip():
            return Problem(EventReason.MISSING_ID, name)
        if not usable_text(value, MAX_ID_CHARS):
            return Problem(EventReason.INVALID_ID, name)
    for name, required in CODES.get(event_type, {}).items():
        code = record.get(name)
        if code is None and not required:
            continue
        if code is None or not usable_text(str(code), MAX_CODE_CHARS):
            return Problem(EventReason.INVALID_FIELD, name)
    score = record.get("score")
    if isinstance(score, float) and not math.isfinite(score):
        return Problem(EventReason.INVALID_FIELD, "score")
    version = record.get("record_version")
    if isinstance(version, int) and not 0 <= version < FINAL_VERSION:
        return Problem(EventReason.VERSION_OUT_OF_RANGE, "record_version")
    return None
