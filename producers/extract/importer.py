"""Checking and importing an extract: the same mapping pass for both, publishing only on import.

``check_extract`` maps every row and publishes nothing: it returns the profile (see
``producers.extract.profile``). ``import_extract`` runs that check first, refuses to publish
when the extract would collapse into one record, and then publishes every mapped row. Both stop
before the first row on any problem in the mapping (unknown columns and fields, required fields
not given, a constant record id), each named with its mapping line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigurationError
from core.settings import Settings
from producers.extract.convert import Converted, convert
from producers.extract.mapping import Mapping, check_columns, unused_columns
from producers.extract.profile import Profile, add_row, profile_fields
from producers.extract.rows import columns_of, is_json_lines, rows_of
from producers.pacing import paced
from producers.publisher import Publisher
from schemas.registry import codec_for
from stream_processors.pseudonymise.rules import DEFAULT_RULES, Rules, rules_from


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class ImportResult:
    rows: int = 0
    mapped: int = 0
    delivered: int = 0
    failed: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    field_warnings: list[Rejected] = field(default_factory=list)
    profile: Profile = field(default_factory=Profile)


def _line_count(path: Path) -> int:
    """Rows, roughly (for the progress bar): lines less the header."""
    with path.open("rb") as handle:
        lines = sum(1 for _ in handle)
    return lines if is_json_lines(path) else max(lines - 1, 0)


def _preflight(path: Path, mapping: Mapping) -> list[str]:
    """The extract's columns, after checking the mapping against them."""
    columns = columns_of(path)
    problems = check_columns(mapping, columns)
    if problems:
        raise ConfigurationError(
            f"mapping {mapping.origin} does not fit {path.name}:\n  " + "\n  ".join(problems)
        )
    return columns


def _as_of(as_of: dt.date | None, now: dt.datetime) -> dt.datetime:
    if as_of is None:
        return now
    moment = dt.datetime.combine(as_of, dt.time(), dt.UTC)
    if moment > now:
        raise ConfigurationError(f"--as-of {as_of} is in the future")
    return moment


def _mapped_rows(
    path: Path,
    mapping: Mapping,
    as_of: dt.datetime,
    description: str,
    show: bool,
    rate: float | None = None,
) -> Iterator[tuple[int, Converted | str]]:
    """(line, converted row or the reason it was rejected) for every row, with progress."""
    for line, row in paced(rows_of(path), _line_count(path), rate, description, show):
        try:
            yield line, convert(mapping, row, as_of)
        except ValueError as exc:
            yield line, str(exc)


def check_extract(
    path: Path,
    mapping: Mapping,
    as_of: dt.date | None = None,
    rules: Rules = DEFAULT_RULES,
    show_progress: bool = True,
) -> Profile:
    """Map every row, publish nothing; the profile of what the pipeline would receive."""
    columns = _preflight(path, mapping)
    now = dt.datetime.now(dt.UTC)
    moment = _as_of(as_of, now)
    profile = Profile(
        fields=profile_fields(mapping), unused_columns=unused_columns(mapping, columns)
    )
    if as_of is None and mapping.event_time is None:
        profile.notes.append(
            "no record date (event_time in the mapping, or --as-of): every row is dated today,"
            " and dates of birth are judged plausible against today"
        )
    rows = _mapped_rows(path, mapping, moment, f"checking {path.name}", show_progress)
    for line, outcome in rows:
        if isinstance(outcome, str):
            profile.reject(line, outcome)
        else:
            add_row(profile, mapping, line, outcome, rules, now)
    if profile.mapped > 1 and profile.distinct_ids == 1:
        profile.notes.append("every row has the same record id: they would be one record")
    return profile


def _registered_topic(settings: Settings, source: str) -> str:
    """The raw topic to publish ``source``'s events on; refuses a source the pseudonymiser
    would refuse (publishing would only fill the dead-letter topic)."""
    from sink.sources import list_sources

    known = {s.name: s for s in list_sources(settings.database_dsn)}
    entry = known.get(source)
    if entry is not None and not entry.enabled:
        raise ConfigurationError(f"source {source!r} is disabled: earlylink sources enable")
    if settings.sources.require_registered and entry is None:
        raise ConfigurationError(
            f"source {source!r} is not registered, so its events would be dead-lettered;"
            f" register it first: earlylink sources add {source}"
        )
    own = entry is not None and entry.own_topic
    return settings.kafka.topic(f"raw.{source}" if own else "raw")


def import_extract(
    settings: Settings,
    path: Path,
    mapping: Mapping,
    rate: float = 0,
    as_of: dt.date | None = None,
    show_progress: bool = True,
) -> ImportResult:
    """Check the extract, then publish every mapped row; rejected rows are listed by line."""
    rules = rules_from(settings.linkage)
    profile = check_extract(path, mapping, as_of, rules, show_progress)
    if profile.mapped > 1 and profile.distinct_ids == 1:
        raise ConfigurationError(
            f"{path.name}: every row has the same record id, so all {profile.mapped:,} rows"
            f" would collapse into one record; check {mapping.where('fields', 'record_id')}"
        )
    topic = _registered_topic(settings, mapping.source_system)
    result = ImportResult(profile=profile)
    moment = _as_of(as_of, dt.datetime.now(dt.UTC))
    with Publisher(settings.kafka, topic, codec=codec_for(settings)) as publisher:
        rows = _mapped_rows(
            path, mapping, moment, f"importing {path.name}", show_progress, rate or None
        )
        for line, outcome in rows:
            result.rows += 1
            if isinstance(outcome, str):
                result.rejected.append(Rejected(line, outcome))
                continue
            result.field_warnings.extend(Rejected(line, w) for w in outcome.warnings)
            publisher.publish(outcome.event)
            result.mapped += 1
        report = publisher.flush()
    result.delivered, result.failed = report.delivered, report.failed
    return result
