"""``--check``: the profile counts what the pipeline would receive, runs the pseudonymiser's
validation on every row, judges dates of birth on the record's own date, and never shows a value
from the file."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

from rich.console import Console

from earlylink.cli import extract_view
from producers.extract import check_extract, load_mapping
from producers.extract.profile import Profile
from stream_processors.pseudonymise.rules import Rules, SharedScheme

MAPPING = """source_system: cc
fields:
  record_id: id
  record_version: {constant: 1}
  role: {column: role, map: {c: CHILD, p: PARENT}}
  given_names: first
  family_name: last
  date_of_birth: {column: dob, format: '%d/%m/%Y'}
  postcode: pc
  nhs_number: nhs
  local_ids:
    - {scheme: client-index, column: ci}
"""
ROWS = [
    "id,first,last,dob,role,pc,nhs,ci,spare",
    "A1,Zqcanary,Okafor,14/03/2017,c,SE11 5QY,9434765919,CI000001,x",  # a child in 2017
    "A2,Ngozi,Okafor,02/07/1993,p,SE11-NOPE,,ci000002,",  # bad postcode
    "A3,Baby,,,c,,,,",  # nothing identifying: the dead-letter topic
    "A4,Ivan,Petrov,31/02/2020,c,,,CI-BAD,",  # no such date; not the scheme's format
    "A5,Іван,Петров,01/01/2019,kid,,,,",  # role not in the map: rejected
    "A6,Иван,Петров,01/01/2019,c,,,,",  # Cyrillic: transliterated
]


def _check(tmp_path: Path, as_of: dt.date | None) -> tuple[Profile, str]:
    (tmp_path / "m.yaml").write_text(MAPPING)
    (tmp_path / "x.csv").write_text("\n".join(ROWS) + "\n")
    rules = Rules(shared={"client-index": SharedScheme("client-index", re.compile(r"CI[0-9]{6}"))})
    profile = check_extract(
        tmp_path / "x.csv", load_mapping(tmp_path / "m.yaml"), as_of, rules, False
    )
    buffer = io.StringIO()
    extract_view.console = Console(file=buffer, width=200)
    extract_view.show_profile(profile, "x.csv")
    return profile, buffer.getvalue()


def test_profile_counts_fields_rows_and_identifiers(tmp_path: Path) -> None:
    profile, _ = _check(tmp_path, dt.date(2020, 6, 1))
    assert (profile.rows, profile.mapped, profile.rejected_rows) == (6, 5, 1)
    assert {r: v.lines for r, v in profile.rejected.items()} == {
        "role: NOT_IN_MAP (value not in the mapping's list)": [6]
    }
    assert {r: v.lines for r, v in profile.dead_letter.items()} == {"NO_IDENTIFYING_FIELD": [4]}
    fields = profile.fields
    assert (fields["postcode"].filled, fields["postcode"].empty) == (1, 3)
    assert fields["postcode"].left_out == {"MALFORMED_POSTCODE": 1}
    assert fields["date_of_birth"].left_out == {"NOT_A_DATE": 1}
    assert fields["given_names"].left_out == {"PLACEHOLDER_NAME": 1}
    assert fields["local_ids.client-index"].left_out == {"INVALID_SHARED_ID": 1}
    assert fields["local_ids.client-index"].filled == 2  # "ci000002" normalised to CI000002
    assert profile.identifiers["NHS number"] == 1
    assert profile.identifiers["shared id: client-index"] == 2
    assert profile.identifiers["a name and the date of birth"] == 3
    assert profile.transliterated == 2  # Иван Петров: given and family name
    assert profile.unused_columns == ["spare"]


def test_dates_of_birth_are_judged_on_the_as_of_date(tmp_path: Path) -> None:
    on_the_day, _ = _check(tmp_path, dt.date(2020, 6, 1))
    today, _ = _check(tmp_path, None)
    assert "IMPLAUSIBLE_DOB" not in on_the_day.fields["date_of_birth"].left_out
    # judged against today, the child born in 2017 is too old and the 2019 ones too
    assert today.fields["date_of_birth"].left_out["IMPLAUSIBLE_DOB"] == 2
    assert any("no record date" in note for note in today.notes)


def test_the_report_never_shows_a_value_from_the_file(tmp_path: Path) -> None:
    _, text = _check(tmp_path, dt.date(2020, 6, 1))
    assert "MALFORMED_POSTCODE" in text and "rows rejected" in text
    for value in (
        "Zqcanary",
        "Okafor",
        "SE11",
        "9434765919",
        "CI000001",
        "14/03",
        "kid",
        "Иван",
        "ivan",
        "Petrov",
    ):
        assert value.lower() not in text.lower(), value
