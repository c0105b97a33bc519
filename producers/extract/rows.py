"""Reading an extract: CSV (header on line 1) or JSON lines, row by row with line numbers.

Column names are taken as written less surrounding white space (FEBRL's CSVs put a space after
every comma, header included). A header that names a column twice is an error: a dictionary of
the row would keep only one of them. A row with more values than the header has columns, or a
JSON line that is not an object, comes back as a row carrying only an ``__error__`` reason.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import ConfigurationError

ERROR = "__error__"
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
Row = dict[str, Any]


def is_json_lines(path: Path) -> bool:
    return path.suffix.lower() in JSON_SUFFIXES


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        first = next(csv.reader(handle), None)
    if not first:
        raise ConfigurationError(f"{path}: no header line (the first line must name the columns)")
    names = [name.strip() for name in first]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigurationError(f"{path}: the header names these columns twice: {twice}")
    if "" in names:
        raise ConfigurationError(f"{path}: the header has a column with no name")
    return names


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _csv_rows(path: Path) -> Iterator[tuple[int, Row]]:
    names = _header(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, fieldnames=names)
        next(reader, None)  # the header itself
        for row in reader:
            if None in row:
                yield reader.line_num, {ERROR: "more values than the header has columns"}
                continue
            yield reader.line_num, {k: _clean(v) for k, v in row.items()}


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Row]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if isinstance(row, dict):
                yield number, {str(k): _clean(v) for k, v in row.items()}
            else:
                yield number, {ERROR: "not a JSON object"}


def rows_of(path: Path) -> Iterator[tuple[int, Row]]:
    """(line number, row) for each row of a CSV or JSON-lines extract."""
    return _jsonl_rows(path) if is_json_lines(path) else _csv_rows(path)


def columns_of(path: Path) -> list[str]:
    """The extract's columns: the CSV header, or every key any JSON line uses (in first-seen
    order)."""
    if not is_json_lines(path):
        return _header(path)
    seen: dict[str, None] = {}
    for _, row in _jsonl_rows(path):
        seen.update(dict.fromkeys(k for k in row if k != ERROR))
    return list(seen)
