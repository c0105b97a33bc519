"""Extract mapping: good rows become events, bad rows carry a line number and a reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from producers.extract import event_id_for, load_mapping, map_row, rows_of
from schemas.models import PersonRecord, Role

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = dt.datetime(2025, 1, 5, tzinfo=dt.UTC)


def test_example_mapping_maps_good_rows() -> None:
    mapping = load_mapping(EXAMPLES / "childrens-centre-mapping.yaml")
    line, row = next(iter(rows_of(EXAMPLES / "childrens-centre-extract.csv")))
    event, warnings = map_row(mapping, row, NOW)
    assert line == 2 and warnings == []
    assert isinstance(event, PersonRecord)
    assert (event.record_id, event.role, event.date_of_birth) == (
        "CC-0001",
        Role.CHILD,
        dt.date(2024, 3, 14),
    )
    assert event.envelope.event_time == dt.datetime(2025, 1, 2, 10, 15, tzinfo=dt.UTC)


def test_bad_rows_are_reported_by_line_and_bad_optional_fields_dropped() -> None:
    mapping = load_mapping(EXAMPLES / "childrens-centre-mapping.yaml")
    outcomes: dict[int, str] = {}
    for line, row in rows_of(EXAMPLES / "childrens-centre-extract.csv"):
        try:
            _, warnings = map_row(mapping, row, NOW)
            outcomes[line] = "warning: " + warnings[0] if warnings else "ok"
        except ValueError as exc:
            outcomes[line] = f"rejected: {exc}"
    assert outcomes[2] == outcomes[3] == outcomes[7] == "ok"
    assert outcomes[4].startswith("warning: date_of_birth")
    assert outcomes[5].startswith("rejected: role")
    assert outcomes[6].startswith("rejected: record_id")
    assert "Kid" not in outcomes[5]  # reasons name fields, never values


def test_event_ids_are_deterministic_per_row() -> None:
    row = {"Client ID": "A", "Surname": "B"}
    assert event_id_for("s", row) == event_id_for("s", dict(reversed(row.items())))
    assert event_id_for("s", row) != event_id_for("t", row)


def test_jsonl_rows_with_bad_json_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "1"}\nnot json\n\n[1, 2]\n')
    rows = list(rows_of(path))
    assert [line for line, _ in rows] == [1, 2, 4]
    assert rows[1][1] == {"__error__": "not a JSON object"}


def test_unknown_event_type_in_mapping_is_a_clear_error(tmp_path: Path) -> None:
    from core.errors import ConfigurationError

    path = tmp_path / "m.yaml"
    path.write_text("source_system: s\nevent_type: Nope\nfields: {record_id: id}\n")
    with pytest.raises(ConfigurationError, match="unknown event type"):
        load_mapping(path)
