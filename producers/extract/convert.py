"""One extract row -> one event, or the reason it cannot be one.

A problem with an optional field leaves that field out (and says which, and why); a problem
with a required field, or a row the contract refuses, rejects the row. Reasons name fields and
problem codes, never values. Event ids derive from the source and the row's content, so
importing the same extract again publishes the same ids (the sink applies them once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from producers.extract.mapping import PLACEHOLDER, FieldRule, Mapping, field_kind
from producers.extract.rows import ERROR, Row
from schemas.models import MODELS, Envelope, Event

EXTRACT_NAMESPACE = uuid.UUID("0b9f6c1e-3c2f-4a7e-8d7a-5a1f1f6e2c44")
DANGLING = re.compile(r"\s*([,;/|])(?:\s*[,;/|])+")  # ", ," left by empty template parts


class Problem(StrEnum):
    NOT_A_DATE = "NOT_A_DATE"
    NOT_IN_MAP = "NOT_IN_MAP"
    NOT_ACCEPTED = "NOT_ACCEPTED"  # the contract refuses the value (wrong type, not an option)


class FieldProblem(ValueError):
    def __init__(self, name: str, code: Problem, detail: str) -> None:
        super().__init__(f"{name}: {code.value} ({detail})")
        self.name, self.code = name, code


@dataclass(frozen=True)
class Converted:
    """A row's event, the fields the row gave a value for, and those left out ((field, code)
    pairs, with a warning each)."""

    event: Event
    filled: frozenset[str]
    left_out: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _render(template: str, row: Row) -> str | None:
    text = PLACEHOLDER.sub(lambda m: _text(row.get(m[1].strip())), template)
    text = DANGLING.sub(r"\1", " ".join(text.split()))
    text = text.strip(" ,;/|-")
    return text or None


def _source(rule: FieldRule, row: Row, kind: str) -> Any:
    if rule.constant is not None:
        return rule.constant
    if rule.column is not None:
        return row.get(rule.column)
    if rule.template is not None:
        return _render(rule.template, row)
    values = [_text(row.get(c)) for c in rule.columns or ()]
    values = [v for v in values if v]
    return values if kind == "list" else (rule.join.join(values) or None)


def _date(name: str, value: Any, formats: tuple[str, ...], kind: str) -> dt.date | dt.datetime:
    for fmt in formats:
        try:
            parsed = dt.datetime.strptime(str(value), fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=dt.UTC) if kind == "datetime" else parsed.date()
    raise FieldProblem(name, Problem.NOT_A_DATE, f"not a date in the format(s) {list(formats)}")


def _mapped(name: str, value: Any, table: dict[str, Any]) -> Any:
    if str(value) not in table:
        raise FieldProblem(name, Problem.NOT_IN_MAP, "value not in the mapping's list")
    return table[str(value)]


def read_value(rule: FieldRule, row: Row, name: str, kind: str) -> Any:
    """The value a rule gives for a row (None when empty); raises FieldProblem."""
    value = _source(rule, row, kind)
    if _empty(value):
        return rule.default
    if isinstance(value, str):
        value = value.strip()
    if kind == "list":
        items = value if isinstance(value, list) else [value]
        if rule.split is not None:
            items = [p.strip() for item in items for p in str(item).split(rule.split)]
        items = [i for i in items if not _empty(i)]
        return [_mapped(name, i, rule.map) for i in items] if rule.map else items
    if rule.map:
        value = _mapped(name, value, rule.map)
    if rule.formats and kind in ("date", "datetime") and isinstance(value, str):
        return _date(name, value, rule.formats, kind)
    return value


def event_id_for(source: str, row: Row) -> uuid.UUID:
    """Deterministic id from the source and the row's content."""
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest()
    return uuid.uuid5(EXTRACT_NAMESPACE, f"{source}|{digest}")


def _required(mapping: Mapping, name: str) -> bool:
    spec = MODELS[mapping.event_type].model_fields.get(name)
    return spec is None or spec.is_required()


def _values(mapping: Mapping, row: Row) -> tuple[dict[str, Any], list[FieldProblem]]:
    values: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, rule in mapping.fields.items():
        try:
            value = read_value(rule, row, name, field_kind(mapping.event_type, name))
        except FieldProblem as problem:
            if _required(mapping, name):
                raise
            problems.append(problem)
            continue
        if value is not None:
            values[name] = value
    _nested(mapping, row, values, problems)
    return values, problems


def _nested(
    mapping: Mapping, row: Row, values: dict[str, Any], problems: list[FieldProblem]
) -> None:
    """``local_ids`` and ``related``: one entry per rule whose column has a value."""
    rules: list[tuple[str, FieldRule, str, str]] = [
        ("local_ids", r, "scheme", r.scheme) for r in mapping.local_ids
    ]
    rules += [("related", r, "relationship", r.relationship.value) for r in mapping.related]
    for name, rule, label, tag in rules:
        try:
            value = read_value(rule, row, f"{name}.{tag}", "scalar")
        except FieldProblem as problem:
            problems.append(problem)
            continue
        if value is not None:
            slot = "value" if name == "local_ids" else "record_id"
            values.setdefault(name, []).append({label: tag, slot: str(value)})


def _event_time(mapping: Mapping, row: Row, as_of: dt.datetime) -> tuple[dt.datetime, list[str]]:
    if mapping.event_time is None:
        return as_of, []
    try:
        value = read_value(mapping.event_time, row, "event_time", "datetime")
    except FieldProblem as problem:
        return as_of, [f"{problem} (the as-of date used)"]
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)), []
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC), []
    if value is None:
        return as_of, []
    return as_of, ["event_time: NOT_A_DATE (give it a format; the as-of date used)"]


def _build(mapping: Mapping, envelope: Envelope, values: dict[str, Any]) -> Event:
    return MODELS[mapping.event_type](envelope=envelope, **values)


def _refusals(exc: ValidationError) -> list[tuple[str, str]]:
    return [
        (str(e["loc"][0]) if e["loc"] else "", f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}")
        for e in exc.errors(include_input=False, include_url=False)
    ]


def convert(mapping: Mapping, row: Row, as_of: dt.datetime) -> Converted:
    """The row as an event; raises ValueError (fields and codes only) when it cannot be one."""
    if ERROR in row:
        raise ValueError(row[ERROR])
    values, problems = _values(mapping, row)
    event_time, time_warnings = _event_time(mapping, row, as_of)
    envelope = Envelope(
        event_id=event_id_for(mapping.source_system, row),
        event_time=event_time,
        source_system=mapping.source_system,
        schema_version=mapping.schema_version,
    )
    try:
        event = _build(mapping, envelope, values)
    except ValidationError as exc:
        refused = _refusals(exc)
        if any(_required(mapping, name) for name, _ in refused):
            raise ValueError("; ".join(msg for _, msg in refused)) from None
        for name, msg in refused:  # optional fields the contract refuses: leave them out
            values.pop(name, None)
            problems.append(FieldProblem(name, Problem.NOT_ACCEPTED, msg.partition(": ")[2]))
        event = _build(mapping, envelope, values)
    left_out = tuple((p.name, p.code.value) for p in problems)
    warnings = tuple(f"{p} (field left out, row kept)" for p in problems) + tuple(time_warnings)
    return Converted(event, _filled(values), left_out, warnings)


def _filled(values: dict[str, Any]) -> frozenset[str]:
    """Field names with a value; ``local_ids.<scheme>`` and ``related.<RELATIONSHIP>`` apart."""
    names = {n for n in values if n not in ("local_ids", "related")}
    names |= {f"local_ids.{i['scheme']}" for i in values.get("local_ids", ())}
    names |= {f"related.{r['relationship']}" for r in values.get("related", ())}
    return frozenset(names)


def map_row(mapping: Mapping, row: Row, now: dt.datetime) -> tuple[Event, list[str]]:
    """One row as an event plus field warnings; raises ValueError naming fields, never values."""
    converted = convert(mapping, row, now)
    return converted.event, list(converted.warnings)
