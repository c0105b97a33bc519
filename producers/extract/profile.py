"""The profile of an extract as the pipeline will see it: counts, reasons and line numbers only.

Per contract field: rows that fill it, rows that leave it empty, and rows whose value is left out
of linkage, by reason (the mapping's own reasons such as ``NOT_A_DATE``, and the pseudonymiser's
such as ``IMPLAUSIBLE_DOB``, found by running its validation on each mapped row). Per row: mapped,
rejected by reason, or mapped but bound for the dead-letter topic. And the share of rows holding
each kind of identifier. Nothing here holds a value from the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field

from producers.extract.convert import Converted
from producers.extract.mapping import Mapping
from stream_processors.pseudonymise.rules import Rules
from stream_processors.pseudonymise.validate import CleanPerson, RecordReason, clean_person

FUTURE_TOLERANCE = dt.timedelta(minutes=10)  # as the pseudonymiser allows
LINES_KEPT = 1_000  # line numbers kept per reason (the count goes on)


@dataclass
class FieldCounts:
    filled: int = 0
    empty: int = 0
    left_out: Counter[str] = field(default_factory=Counter)


@dataclass
class Lines:
    """How many rows had one reason, and the first of their line numbers."""

    count: int = 0
    lines: list[int] = field(default_factory=list)

    def add(self, line: int) -> None:
        self.count += 1
        if len(self.lines) < LINES_KEPT:
            self.lines.append(line)


@dataclass
class Profile:
    rows: int = 0
    mapped: int = 0
    rejected: dict[str, Lines] = field(default_factory=dict)
    dead_letter: dict[str, Lines] = field(default_factory=dict)  # mapped, refused downstream
    suppressed: int = 0  # consent does not allow linkage: forwarded without identifiers
    fields: dict[str, FieldCounts] = field(default_factory=dict)
    identifiers: Counter[str] = field(default_factory=Counter)
    transliterated: int = 0
    repeated_ids: int = 0  # rows whose record id and version an earlier row already had
    unused_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _seen: set[bytes] = field(default_factory=set, repr=False)
    _ids: set[bytes] = field(default_factory=set, repr=False)

    @property
    def distinct_ids(self) -> int:
        return len(self._ids)

    @property
    def dead_lettered(self) -> int:
        return sum(r.count for r in self.dead_letter.values())

    @property
    def rejected_rows(self) -> int:
        return sum(r.count for r in self.rejected.values())

    def reject(self, line: int, reason: str) -> None:
        self.rows += 1
        self.rejected.setdefault(reason, Lines()).add(line)


def profile_fields(mapping: Mapping) -> dict[str, FieldCounts]:
    """An empty count per field the mapping gives (local ids by scheme, references by kind)."""
    names = [*mapping.fields]
    names += [f"local_ids.{r.scheme}" for r in mapping.local_ids]
    names += [f"related.{r.relationship.value}" for r in mapping.related]
    return {n: FieldCounts() for n in dict.fromkeys(names)}


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=12).digest()


def _identifiers(clean: CleanPerson, local_schemes: list[str]) -> list[str]:
    kinds = []
    if clean.nhs:
        kinds.append("NHS number")
    if clean.upn:
        kinds.append("unique pupil number")
    kinds += [f"shared id: {name}" for name in sorted(clean.shared)]
    kinds += [f"local id, not shared: {name}" for name in local_schemes]
    if (clean.given or clean.family) and clean.dob:
        kinds.append("a name and the date of birth")
    return kinds


def add_row(
    profile: Profile,
    mapping: Mapping,
    line: int,
    converted: Converted,
    rules: Rules,
    now: dt.datetime,
) -> None:
    """Count one mapped row, running the pseudonymiser's own validation on it."""
    profile.rows += 1
    profile.mapped += 1
    event = converted.event
    record = event.to_avro()
    subject = event.subject_record_id
    profile._ids.add(_digest(subject))
    version_key = _digest(subject, record.get("record_version", ""))
    if version_key in profile._seen:
        profile.repeated_ids += 1
    profile._seen.add(version_key)
    left_out = dict(converted.left_out)
    clean = _validated(profile, mapping, line, record, rules, now)
    if clean is not None:
        left_out.update({name: issue.value for name, issue in clean.issues})
    for name, counts in profile.fields.items():
        if name in left_out:
            counts.left_out[left_out[name]] += 1
        elif name in converted.filled:
            counts.filled += 1
        else:
            counts.empty += 1


def _validated(
    profile: Profile,
    mapping: Mapping,
    line: int,
    record: dict[str, object],
    rules: Rules,
    now: dt.datetime,
) -> CleanPerson | None:
    envelope = record["envelope"]
    assert isinstance(envelope, dict)
    event_time = envelope["event_time"]
    assert isinstance(event_time, dt.datetime)
    if event_time > now + FUTURE_TOLERANCE:
        profile.dead_letter.setdefault(RecordReason.EVENT_TIME_IN_FUTURE, Lines()).add(line)
        return None
    if mapping.event_type != "PersonRecord":
        return None
    if record.get("consent") != "PERMITTED":
        profile.suppressed += 1
        return None
    clean = clean_person(record, event_time.date(), rules)
    profile.transliterated += clean.transliterated
    locals_ = record.get("local_ids") or []
    assert isinstance(locals_, list)
    unshared = sorted({i["scheme"] for i in locals_ if i["scheme"] not in rules.shared})
    profile.identifiers.update(_identifiers(clean, unshared))
    if not clean.identifying:
        profile.dead_letter.setdefault(RecordReason.NO_IDENTIFYING_FIELD, Lines()).add(line)
    return clean
