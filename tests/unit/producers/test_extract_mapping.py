"""Mapping files: each way a field can be given, and each problem a mapping can have, named with
its line before a single row is read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigurationError
from producers.extract import check_extract, columns_of, convert, load_mapping, rows_of
from producers.extract.importer import import_extract
from producers.extract.mapping import check_columns, unused_columns
from schemas.models import PersonRecord, ServiceContact

AS_OF = dt.datetime(2025, 1, 5, tzinfo=dt.UTC)
HEADER = "id,first,last,no,street,town,dob,role,mother,ci,prev1,prev2,sex,when"


def _mapping(tmp_path: Path, body: str, head: str = "source_system: cc\n") -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(head + body)
    return path


def _extract(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "x.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


BASE = """fields:
  record_id: id
  record_version: {constant: 3}
  role: {column: role, map: {c: CHILD, p: PARENT}}
"""
ROW = "A1,Amara,Okafor,12,Mill Lane,Lambeth,14/03/2024,c,M9,CI123456,Smith,,F,2024-12-01"


def _one(tmp_path: Path, fields: str, row: str = ROW, **kw: Any) -> Any:
    mapping = load_mapping(_mapping(tmp_path, BASE + fields, **kw))
    (_, data), *_ = rows_of(_extract(tmp_path, row))
    return convert(mapping, data, AS_OF)


def test_several_columns_joined_and_a_template_drop_empty_parts(tmp_path: Path) -> None:
    got = _one(tmp_path, "  address_line: {template: '{no} {street}, {prev2}, {town}'}\n")
    assert got.event.address_line == "12 Mill Lane, Lambeth"
    joined = _one(tmp_path, "  given_names: {columns: [first, prev2, last], join: '-'}\n")
    assert joined.event.given_names == "Amara-Okafor"


def test_constant_value_map_and_role_from_a_column(tmp_path: Path) -> None:
    got = _one(tmp_path, "  sex: {column: sex, map: {F: FEMALE, M: MALE}}\n")
    assert (got.event.record_version, got.event.role.value, got.event.sex.value) == (
        3,
        "CHILD",
        "FEMALE",
    )
    constant_role = load_mapping(
        _mapping(
            tmp_path,
            BASE.replace("{column: role, map: {c: CHILD, p: PARENT}}", "{constant: PARENT}"),
        )
    )
    (_, data), *_ = rows_of(_extract(tmp_path, ROW))
    event = convert(constant_role, data, AS_OF).event
    assert isinstance(event, PersonRecord) and event.role.value == "PARENT"


def test_date_formats_are_tried_in_order(tmp_path: Path) -> None:
    fields = "  date_of_birth: {column: dob, format: ['%Y-%m-%d', '%d/%m/%Y']}\n"
    assert _one(tmp_path, fields).event.date_of_birth == dt.date(2024, 3, 14)
    bad = _one(tmp_path, fields, row=ROW.replace("14/03/2024", "14.03.2024"))
    assert bad.event.date_of_birth is None
    assert bad.left_out == (("date_of_birth", "NOT_A_DATE"),)
    assert "14.03" not in " ".join(bad.warnings)  # reasons, never values


def test_value_not_in_map_leaves_an_optional_field_out_and_rejects_a_required_one(
    tmp_path: Path,
) -> None:
    optional = _one(tmp_path, "  sex: {column: sex, map: {M: MALE}}\n")
    assert optional.left_out == (("sex", "NOT_IN_MAP"),)
    with pytest.raises(ValueError, match="role: NOT_IN_MAP"):
        _one(tmp_path, "", row=ROW.replace(",c,", ",kid,"))


def test_a_value_the_contract_refuses_leaves_an_optional_field_out(tmp_path: Path) -> None:
    got = _one(tmp_path, "  sex: sex\n")  # "F" is not one of the contract's codes
    assert got.event.sex.value == "NOT_KNOWN"
    assert got.left_out == (("sex", "NOT_ACCEPTED"),)


def test_lists_from_several_columns_or_a_split(tmp_path: Path) -> None:
    got = _one(tmp_path, "  former_family_names: {columns: [prev1, prev2]}\n")
    assert got.event.former_family_names == ["Smith"]
    split = _one(
        tmp_path,
        "  former_family_names: {column: prev1, split: ';'}\n",
        row=ROW.replace(",Smith,", ",Smith; Jones,"),
    )
    assert split.event.former_family_names == ["Smith", "Jones"]


def test_related_and_local_ids_from_columns(tmp_path: Path) -> None:
    fields = (
        "  related:\n    - {relationship: MOTHER, column: mother}\n"
        "  local_ids:\n    - {scheme: client-index, column: ci}\n"
        "    - {scheme: case, column: prev2}\n"
    )
    got = _one(tmp_path, fields)
    assert isinstance(got.event, PersonRecord)
    assert [(r.relationship.value, r.record_id) for r in got.event.related] == [("MOTHER", "M9")]
    assert [(i.scheme, i.value) for i in got.event.local_ids] == [("client-index", "CI123456")]
    assert got.filled >= {"related.MOTHER", "local_ids.client-index"}
    assert "local_ids.case" not in got.filled  # an empty column gives no id


def test_event_time_from_a_column_or_the_as_of_date(tmp_path: Path) -> None:
    dated = load_mapping(
        _mapping(
            tmp_path,
            BASE,
            head="source_system: cc\nevent_time: {column: when, format: '%Y-%m-%d'}\n",
        )
    )
    (_, data), *_ = rows_of(_extract(tmp_path, ROW))
    assert convert(dated, data, AS_OF).event.envelope.event_time == dt.datetime(
        2024, 12, 1, tzinfo=dt.UTC
    )
    undated = load_mapping(_mapping(tmp_path, BASE))
    assert convert(undated, data, AS_OF).event.envelope.event_time == AS_OF


def test_other_event_types_map_too(tmp_path: Path) -> None:
    path = _mapping(
        tmp_path,
        "event_type: ServiceContact\nfields:\n  contact_id: {template: 'c-{id}'}\n"
        "  person_record_id: id\n  service_code: {constant: CC01}\n"
        "  activity_code: {constant: STAY_PLAY}\n  contact_type: {constant: SESSION}\n"
        "  contact_date: {column: when, format: '%Y-%m-%d'}\n",
    )
    (_, data), *_ = rows_of(_extract(tmp_path, ROW))
    event = convert(load_mapping(path), data, AS_OF).event
    assert isinstance(event, ServiceContact)
    assert (event.contact_id, event.contact_date) == ("c-A1", dt.date(2024, 12, 1))


# ---------------------------------------------------------------- problems in the mapping


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_mapping(_mapping(tmp_path, text, head=""))
    return str(caught.value)


def test_unknown_field_is_named_with_its_line(tmp_path: Path) -> None:
    text = (
        "source_system: cc\nfields:\n  record_id: id\n  record_version: {constant: 1}\n"
        "  role: {constant: CHILD}\n  shoe_size: size\n"
    )
    message = _problems(tmp_path, text)
    assert "m.yaml:6: fields.shoe_size" in message
    assert "has no field 'shoe_size'" in message


def test_required_field_not_given_and_constant_record_id(tmp_path: Path) -> None:
    message = _problems(
        tmp_path,
        "source_system: cc\nfields:\n  record_id: {constant: X}\n  role: {constant: CHILD}\n",
    )
    assert "requires 'record_version'" in message
    assert "m.yaml:3: fields.record_id: record_id would be the same for every row" in message


def test_rule_problems_are_each_named_with_their_line(tmp_path: Path) -> None:
    text = (
        "source_system: cc\nsurprise: 1\nfields:\n  record_id: {colum: id}\n"
        "  record_version: {column: v, constant: 1}\n  role: 7\n"
        "  related:\n    - {relationship: AUNT, column: a}\n"
    )
    message = _problems(tmp_path, text)
    assert "m.yaml:2: surprise: not a mapping key" in message
    assert "m.yaml:4: fields.record_id: colum: Extra inputs are not permitted" in message
    assert "m.yaml:5: fields.record_version: " in message and "one source" in message
    assert "m.yaml:6: fields.role: write a column name" in message
    assert "m.yaml:8: fields.related.0: relationship" in message


def test_unknown_event_type_and_missing_source(tmp_path: Path) -> None:
    message = _problems(tmp_path, "event_type: Nope\nfields: {record_id: id}\n")
    assert "unknown event type 'Nope'" in message
    assert "source_system: name the source system" in message


def test_columns_not_in_the_extract_are_named_with_line_and_a_hint(tmp_path: Path) -> None:
    mapping = load_mapping(
        _mapping(
            tmp_path, BASE + "  given_names: First\n  address_line: {template: '{no} {road}'}\n"
        )
    )
    columns = columns_of(_extract(tmp_path, ROW))
    problems = check_columns(mapping, columns)
    hint = " (for a constant write {constant: ...})"
    assert problems == [
        f"{mapping.origin}:6: fields.given_names: column 'First' is not in the extract;"
        f" did you mean 'first'?{hint}",
        f"{mapping.origin}:7: fields.address_line: column 'road' is not in the extract{hint}",
    ]
    with pytest.raises(ConfigurationError, match="column 'First' is not in the extract"):
        check_extract(_extract(tmp_path, ROW), mapping, show_progress=False)


def test_unused_columns_are_listed(tmp_path: Path) -> None:
    mapping = load_mapping(_mapping(tmp_path, BASE + "  given_names: first\n"))
    unused = unused_columns(mapping, columns_of(_extract(tmp_path, ROW)))
    assert unused == [c for c in HEADER.split(",") if c not in ("id", "role", "first")]


# ---------------------------------------------------------------- reading the extract


def test_header_names_are_stripped_and_a_repeated_one_is_an_error(tmp_path: Path) -> None:
    spaced = _extract(tmp_path, "1, Amara", header="id, first")
    assert columns_of(spaced) == ["id", "first"]
    assert next(iter(rows_of(spaced)))[1] == {"id": "1", "first": "Amara"}
    with pytest.raises(ConfigurationError, match="twice"):
        columns_of(_extract(tmp_path, "1,2", header="id,id"))


def test_a_row_with_too_many_values_is_rejected_by_line(tmp_path: Path) -> None:
    mapping = load_mapping(_mapping(tmp_path, BASE))
    path = _extract(tmp_path, ROW, ROW + ",extra", ROW.replace("A1", "A2"))
    profile = check_extract(path, mapping, show_progress=False)
    assert (profile.rows, profile.mapped) == (3, 2)
    assert {r: v.lines for r, v in profile.rejected.items()} == {
        "more values than the header has columns": [3]
    }


def test_jsonl_columns_are_every_key_used(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "1"}\n{"id": "2", "first": "A"}\nnot json\n')
    assert columns_of(path) == ["id", "first"]


def test_an_extract_with_one_record_id_for_every_row_is_refused(tmp_path: Path) -> None:
    from core.settings import KafkaSettings, Settings

    mapping = load_mapping(_mapping(tmp_path, BASE.replace("record_id: id", "record_id: role")))
    path = _extract(tmp_path, ROW, ROW.replace("A1", "A2"))
    nowhere = Settings(kafka=KafkaSettings(bootstrap="127.0.0.1:1"))
    with pytest.raises(ConfigurationError, match="collapse into one record"):
        import_extract(nowhere, path, mapping, show_progress=False)


def test_the_town_goes_to_locality_in_the_newest_contract(tmp_path: Path) -> None:
    got = _one(tmp_path, "  address_line: {template: '{no} {street}'}\n  locality: town\n")
    assert (got.event.address_line, got.event.locality) == ("12 Mill Lane", "Lambeth")
    assert got.event.envelope.schema_version == 3  # no schema_version: the newest


def test_a_field_the_chosen_version_lacks_is_an_error_not_dropped(tmp_path: Path) -> None:
    text = "source_system: cc\nschema_version: 2\n" + BASE + "  locality: town\n"
    problem = _problems(tmp_path, text)
    assert "PersonRecord v2 has no field 'locality'; give schema_version: 3" in problem
    assert "has no version 9" in _problems(tmp_path, text.replace("version: 2", "version: 9"))
    assert "schema_version: a whole number" in _problems(
        tmp_path, text.replace("version: 2", "version: two")
    )
