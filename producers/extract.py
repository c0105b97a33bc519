"""Import of a quarterly extract (CSV or JSON lines) through a mapping file into events.

The mapping (YAML) names the source system, the event type and, per contract field, the column
it comes from with an optional date format or value map. A row that cannot be mapped is reported
with its line number and reason and counted, never dropped silently. Event ids derive from the
source and the row's content, so re-running an import publishes the same ids (the sink ignores
repeats) and an interrupted import can simply be run again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from earlylink.errors import ConfigurationError
from earlylink.settings import Settings
from producers.pacing import paced
from producers.publisher import Publisher
from schemas.models import MODELS, Envelope, Event

EXTRACT_NAMESPACE = uuid.UUID("0b9f6c1e-3c2f-4a7e-8d7a-5a1f1f6e2c44")


class ColumnRule(BaseModel):
    """Where one contract field comes from."""

    column: str | None = None
    format: str | None = None  # strptime format for dates and timestamps
    map: dict[str, str] = Field(default_factory=dict)  # source value -> contract value
    default: Any = None
    split: str | None = None  # for list fields: separator


class Mapping(BaseModel):
    source_system: str
    event_type: str = "PersonRecord"
    schema_version: int = 2
    event_time: ColumnRule | None = None  # default: the import's start time
    fields: dict[str, ColumnRule]


def load_mapping(path: Path) -> Mapping:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = {
            name: ColumnRule(column=rule) if isinstance(rule, str) else ColumnRule(**rule)
            for name, rule in (raw.get("fields") or {}).items()
        }
        event_time = raw.get("event_time")
        mapping = Mapping(
            source_system=raw["source_system"],
            event_type=raw.get("event_type", "PersonRecord"),
            schema_version=raw.get("schema_version", 2),
            fields=rules,
            event_time=ColumnRule(**event_time) if isinstance(event_time, dict) else None,
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValidationError) as exc:
        raise ConfigurationError(f"mapping {path} is not usable: {exc}") from exc
    if mapping.event_type not in MODELS:
        raise ConfigurationError(f"mapping {path}: unknown event type {mapping.event_type!r}")
    return mapping


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


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            yield number, row if isinstance(row, dict) else {"__error__": "not a JSON object"}


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            yield reader.line_num, row


def rows_of(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) from a CSV (header on line 1) or a JSON-lines file."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return _jsonl_rows(path)
    return _csv_rows(path)


def _value(rule: ColumnRule, row: dict[str, Any], name: str) -> Any:
    raw = row.get(rule.column) if rule.column else None
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        return rule.default
    value = raw.strip() if isinstance(raw, str) else raw
    if rule.map:
        if str(value) not in rule.map:
            raise ValueError(f"{name}: value not in the mapping's list")
        value = rule.map[str(value)]
    if rule.format:
        try:
            parsed = dt.datetime.strptime(str(value), rule.format)
        except ValueError:
            raise ValueError(f"{name}: not a date in format {rule.format}") from None
        return parsed.replace(tzinfo=dt.UTC) if name == "event_time" else parsed.date()
    if rule.split is not None:
        return [part.strip() for part in str(value).split(rule.split) if part.strip()]
    return value


def event_id_for(source: str, row: dict[str, Any]) -> uuid.UUID:
    """Deterministic id from the source and the row's content."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    return uuid.uuid5(EXTRACT_NAMESPACE, f"{source}|{digest}")


def _values(mapping: Mapping, row: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Field values; an unusable optional field is left out and named in the warnings."""
    model = MODELS[mapping.event_type]
    values: dict[str, Any] = {}
    warnings: list[str] = []
    for name, rule in mapping.fields.items():
        try:
            values[name] = _value(rule, row, name)
        except ValueError as exc:
            spec = model.model_fields.get(name)
            if spec is None or spec.is_required():
                raise
            warnings.append(f"{exc} (field left out, row kept)")
    return values, warnings


def map_row(mapping: Mapping, row: dict[str, Any], now: dt.datetime) -> tuple[Event, list[str]]:
    """One row as an event plus field warnings; raises ValueError naming fields, never values."""
    if "__error__" in row:
        raise ValueError(row["__error__"])
    values, warnings = _values(mapping, row)
    event_time = _value(mapping.event_time, row, "event_time") if mapping.event_time else now
    envelope = Envelope(
        event_id=event_id_for(mapping.source_system, row),
        event_time=event_time or now,
        source_system=mapping.source_system,
        schema_version=mapping.schema_version,
    )
    model = MODELS[mapping.event_type]
    try:
        event = model(envelope=envelope, **{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        raise ValueError(problems) from None
    return event, warnings


def import_extract(
    settings: Settings, path: Path, mapping: Mapping, rate: float = 0
) -> ImportResult:
    """Map every row and publish the events; unmappable rows go to ``rejected``."""
    result = ImportResult()
    now = dt.datetime.now(dt.UTC)
    total = sum(1 for _ in rows_of(path))
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for line, row in paced(rows_of(path), total, rate or None, f"importing {path.name}"):
            result.rows += 1
            try:
                event, warnings = map_row(mapping, row, now)
            except ValueError as exc:
                result.rejected.append(Rejected(line, str(exc)))
                continue
            result.field_warnings.extend(Rejected(line, w) for w in warnings)
            publisher.publish(event)
            result.mapped += 1
        report = publisher.flush()
    result.delivered, result.failed = report.delivered, report.failed
    return result
