"""The mapping file: how an extract's columns become one contract's fields.

A mapping (YAML) names the source system and the event type, and gives each contract field a
rule with exactly one source: ``column``, ``columns`` (joined with ``join``, or a list for list
fields), ``template`` (``"{Street no} {Street}"``: empty parts and the separators around them
drop out) or ``constant``. A rule may add ``default`` (when the source is empty), ``map`` (source
value -> contract value), ``format`` (one strptime format or several tried in order) and
``split`` (for list fields). ``local_ids`` and ``related`` take lists of rules with a
``scheme`` or a ``relationship``. A bare string is a column name.

Every problem in the mapping itself is found before anything is sent and reported with the
line of the mapping it is on: an unknown key or field, a column the extract does not have, a
field the contract requires that the mapping does not give, a record id that would be the same
for every row.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from core.errors import ConfigurationError
from schemas.catalogue import catalogue
from schemas.models import MODELS, Relationship

SOURCES = ("column", "columns", "template", "constant")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
NESTED = ("local_ids", "related")
SUBJECT_ID = {  # the field that names the record an event is about, per event type
    "PersonRecord": "record_id",
    "RecordRetraction": "record_id",
    "ServiceContact": "person_record_id",
    "OutcomeMeasure": "person_record_id",
    "ConsentChange": "person_record_id",
}
Path_ = tuple[str | int, ...]


class FieldRule(BaseModel):
    """Where one contract field comes from, and how its value is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    columns: list[str] | None = None
    join: str = " "
    template: str | None = None
    constant: Any = None
    default: Any = None
    map: dict[str, Any] | None = None
    format: str | list[str] | None = None
    split: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [s for s in SOURCES if getattr(self, s) is not None]
        if len(given) > 1:
            raise ValueError(f"give one source, not {' and '.join(given)}")
        if not given and self.default is None:
            raise ValueError("give one of: column, columns, template, constant")
        if self.columns is not None and not self.columns:
            raise ValueError("columns: name at least one column")
        if self.template is not None and not PLACEHOLDER.search(self.template):
            raise ValueError("template: name at least one {column}")
        return self

    @property
    def formats(self) -> tuple[str, ...]:
        if self.format is None:
            return ()
        return (self.format,) if isinstance(self.format, str) else tuple(self.format)

    def columns_used(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.columns is not None:
            return list(self.columns)
        if self.template is not None:
            return [name.strip() for name in PLACEHOLDER.findall(self.template)]
        return []

    @property
    def same_for_every_row(self) -> bool:
        return not self.columns_used()


class LocalIdRule(FieldRule):
    """One identifier column: ``{scheme: client-index, column: CI number}``."""

    scheme: str


class RelatedRule(FieldRule):
    """One reference column: ``{relationship: MOTHER, column: Mother ID}``."""

    relationship: Relationship


@dataclass(frozen=True)
class Mapping:
    """A loaded mapping; ``lines`` gives the mapping line of each key, for error messages."""

    source_system: str
    event_type: str
    schema_version: int
    fields: dict[str, FieldRule]
    local_ids: tuple[LocalIdRule, ...] = ()
    related: tuple[RelatedRule, ...] = ()
    event_time: FieldRule | None = None
    origin: str = "mapping"
    lines: dict[Path_, int] = field(default_factory=dict, repr=False)

    def where(self, *path: str | int) -> str:
        """``file:line: a.b`` for a key of the mapping."""
        line = self.lines.get(tuple(path))
        dotted = ".".join(str(p) for p in path)
        return f"{self.origin}:{line}: {dotted}" if line else f"{self.origin}: {dotted}"

    def rules(self) -> list[tuple[Path_, FieldRule]]:
        """Every rule with its place in the mapping."""
        found: list[tuple[Path_, FieldRule]] = [(("fields", n), r) for n, r in self.fields.items()]
        found += [(("fields", "local_ids", i), r) for i, r in enumerate(self.local_ids)]
        found += [(("fields", "related", i), r) for i, r in enumerate(self.related)]
        if self.event_time is not None:
            found.append((("event_time",), self.event_time))
        return found

    def columns_used(self) -> set[str]:
        return {c for _, rule in self.rules() for c in rule.columns_used()}


def _key_lines(node: yaml.Node, prefix: Path_ = ()) -> dict[Path_, int]:
    """1-based line of every mapping key and list item below ``node``."""
    lines: dict[Path_, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = (*prefix, str(key.value))
            lines[path] = key.start_mark.line + 1
            lines.update(_key_lines(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            lines.update(_key_lines(item, path))
    return lines


def _rule(kind: type[FieldRule], raw: Any) -> FieldRule:
    if isinstance(raw, str):
        return kind(column=raw)
    if isinstance(raw, dict):
        return kind(**raw)
    raise ValueError("write a column name, or {column: ...}, {constant: ...} and so on")


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors(include_input=False, include_url=False)
        )
    return str(exc)


def _rules(raw_fields: dict[str, Any], where: Any, problems: list[str]) -> dict[str, Any]:
    made: dict[str, Any] = {"fields": {}, "local_ids": [], "related": []}
    for name, raw in raw_fields.items():
        if name in NESTED:
            kind: type[FieldRule] = LocalIdRule if name == "local_ids" else RelatedRule
            if not isinstance(raw, list):
                problems.append(f"{where('fields', name)}: give a list of rules")
                continue
            for index, item in enumerate(raw):
                try:
                    made[name].append(_rule(kind, item))
                except (ValidationError, ValueError, TypeError) as exc:
                    problems.append(f"{where('fields', name, index)}: {_problem(exc)}")
            continue
        try:
            made["fields"][str(name)] = _rule(FieldRule, raw)
        except (ValidationError, ValueError, TypeError) as exc:
            problems.append(f"{where('fields', name)}: {_problem(exc)}")
    return made


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file on its own (the extract's columns are checked by
    ``check_mapping``); every problem found is listed in one ConfigurationError."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"mapping {path} is not usable: {exc}") from exc
    if not isinstance(raw, dict) or node is None:
        raise ConfigurationError(f"mapping {path}: expected keys such as source_system, fields")
    lines = _key_lines(node)
    shell = Mapping("", "", 0, {}, origin=str(path), lines=lines)
    problems: list[str] = []
    unknown = sorted(set(raw) - {"source_system", "event_type", "schema_version", "event_time"})
    unknown = [k for k in unknown if k != "fields"]
    problems += [f"{shell.where(k)}: not a mapping key" for k in unknown]
    if not isinstance(raw.get("source_system"), str) or not raw["source_system"].strip():
        problems.append(f"{shell.where('source_system')}: name the source system (required)")
    event_type = raw.get("event_type", "PersonRecord")
    if event_type not in MODELS:
        problems.append(
            f"{shell.where('event_type')}: unknown event type {event_type!r} "
            f"(one of {', '.join(MODELS)})"
        )
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        problems.append(f"{shell.where('fields')}: give the contract's fields (required)")
        raw_fields = {}
    made = _rules(raw_fields, shell.where, problems)
    event_time = None
    if raw.get("event_time") is not None:
        try:
            event_time = _rule(FieldRule, raw["event_time"])
        except (ValidationError, ValueError, TypeError) as exc:
            problems.append(f"{shell.where('event_time')}: {_problem(exc)}")
    mapping = Mapping(
        source_system=str(raw.get("source_system") or "").strip(),
        event_type=event_type,
        schema_version=_version(raw, event_type, shell.where("schema_version"), problems),
        fields=made["fields"],
        local_ids=tuple(made["local_ids"]),
        related=tuple(made["related"]),
        event_time=event_time,
        origin=str(path),
        lines=lines,
    )
    if event_type in MODELS:  # the rules that parsed, and every field named, against the contract
        problems += check_contract(mapping, named=set(raw_fields))
    if problems:
        raise ConfigurationError(f"mapping {path} has problems:\n  " + "\n  ".join(problems))
    return mapping


@functools.lru_cache(maxsize=256)
def field_kind(event_type: str, name: str) -> str:
    """``date``, ``datetime``, ``list`` or ``scalar``: how a field's value is read."""
    annotation = MODELS[event_type].model_fields[name].annotation
    args = typing.get_args(annotation) or (annotation,)
    if typing.get_origin(annotation) is list:
        return "list"
    if any(a is typing.Any for a in args):
        return "scalar"
    if dt.datetime in args:
        return "datetime"
    if dt.date in args:
        return "date"
    return "scalar"


def _version(raw: dict[str, Any], event_type: str, where: str, problems: list[str]) -> int:
    """The mapping's schema version: as given, else the newest its event type has."""
    given = raw.get("schema_version")
    if given is not None:
        if isinstance(given, int) and not isinstance(given, bool):
            return given
        problems.append(f"{where}: a whole number, such as 3 (not {given!r})")
    types = catalogue().event_types
    return catalogue().latest(event_type).version if event_type in types else 1


def _version_problems(mapping: Mapping, named: set[str]) -> list[str]:
    """A version the catalogue lacks, or fields the version does not carry (its writer would
    drop them without a word)."""
    versions = {v.version: v for v in catalogue().versions(mapping.event_type)}
    chosen = versions.get(mapping.schema_version)
    where = mapping.where("schema_version")
    if chosen is None:
        return [
            f"{where}: {mapping.event_type} has no version {mapping.schema_version}"
            f" (versions: {', '.join(map(str, versions))})"
        ]
    carried = {f["name"] for f in chosen.definition["fields"]}
    return [
        f"{mapping.where('fields', name)}: {mapping.event_type} v{chosen.version} has no field"
        f" {name!r}; give schema_version: {max(versions)}"
        for name in sorted(named - carried)
        if name in MODELS[mapping.event_type].model_fields
    ]


def check_contract(mapping: Mapping, named: set[str] | None = None) -> list[str]:
    """Problems of the mapping against its contract (fields unknown, missing, constant ids);
    ``named``: every field the file names, its rule usable or not."""
    model = MODELS[mapping.event_type]
    known = [n for n in model.model_fields if n != "envelope"]
    problems = []
    for name in mapping.fields:
        if name not in known or name in NESTED:
            problems.append(
                f"{mapping.where('fields', name)}: {mapping.event_type} has no field {name!r}"
                f" (its fields: {', '.join(known)})"
            )
    for name in NESTED:
        rules = mapping.local_ids if name == "local_ids" else mapping.related
        if rules and name not in known:
            problems.append(
                f"{mapping.where('fields', name)}: {mapping.event_type} has no field {name!r}"
            )
    given = set(mapping.fields) | {n for n in NESTED if getattr(mapping, n)} | (named or set())
    for name in known:
        if model.model_fields[name].is_required() and name not in given:
            problems.append(
                f"{mapping.origin}: fields: {mapping.event_type} requires {name!r};"
                " the mapping does not give it"
            )
    subject = SUBJECT_ID[mapping.event_type]
    rule = mapping.fields.get(subject)
    if rule is not None and rule.same_for_every_row:
        problems.append(
            f"{mapping.where('fields', subject)}: {subject} would be the same for every row"
            " (every row would be one record); name the column that holds it"
        )
    return problems + _version_problems(mapping, given)


def check_columns(mapping: Mapping, columns: list[str]) -> list[str]:
    """Problems of the mapping against the extract's columns (each column named that the
    extract does not have)."""
    have = set(columns)
    problems = []
    for path, rule in mapping.rules():
        for column in rule.columns_used():
            if column not in have:
                close = [c for c in columns if c.lower() == column.lower()]
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    f"{mapping.where(*path)}: column {column!r} is not in the extract{hint}"
                    " (for a constant write {constant: ...})"
                )
    return problems


def unused_columns(mapping: Mapping, columns: list[str]) -> list[str]:
    used = mapping.columns_used()
    return [c for c in columns if c not in used]
