"""Names in other scripts are transliterated (the same way every time, and counted); Latin names
are folded as before; plausible ages by role and shared identifier formats come from the rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core.settings import LinkageSettings
from stream_processors.pseudonymise.normalise import in_other_script, normalise_name
from stream_processors.pseudonymise.rules import SharedScheme, rules_from
from stream_processors.pseudonymise.validate import FieldIssue, clean_person


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Александр", "aleksandr"),
        ("Иванова", "ivanova"),
        ("محمد", "mhmd"),
        ("王小明", "wangxiaoming"),
        ("Γιώργος", "giorgos"),
    ],
)
def test_other_scripts_are_transliterated(raw: str, folded: str) -> None:
    name = normalise_name(raw)
    assert name is not None and name.full == folded
    assert in_other_script(raw)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [("Zoë", "zoe"), ("Łukasz", "lukasz"), ("Siobhán", "siobhan"), ("O`Brien", "obrien")],
)
def test_latin_names_fold_as_before_and_are_not_counted(raw: str, folded: str) -> None:
    name = normalise_name(raw)
    assert name is not None and name.full == folded
    assert not in_other_script(raw)


def _record(**kw: object) -> dict[str, object]:
    record: dict[str, object] = {
        "role": "CHILD",
        "given_names": "Amara",
        "family_name": "Okafor",
        "date_of_birth": dt.date(2023, 4, 5),
        "local_ids": [],
    }
    record.update(kw)
    return record


def test_transliterated_names_are_counted() -> None:
    clean = clean_person(_record(given_names="Иван", family_name="محمد"), dt.date(2025, 1, 1))
    assert clean.transliterated == 2
    assert clean_person(_record(), dt.date(2025, 1, 1)).transliterated == 0


def test_plausible_ages_come_from_the_settings() -> None:
    old = _record(role="PARENT", date_of_birth=dt.date(1905, 1, 1))
    on = dt.date(2000, 1, 1)
    assert ("date_of_birth", FieldIssue.IMPLAUSIBLE_DOB) in clean_person(old, on).issues
    wide = rules_from(LinkageSettings(adult_age_years=(0, 110)))
    assert clean_person(old, on, wide).dob == dt.date(1905, 1, 1)


def test_shared_schemes_are_normalised_and_checked() -> None:
    luhn = SharedScheme("card", check="luhn")
    mod11 = SharedScheme("nhs-like", check="mod11")
    pattern = SharedScheme("ci", re.compile(r"CI[0-9]{6}"))
    assert luhn.normalise("7992 7398 713") == "79927398713"
    assert luhn.normalise("79927398710") is None
    assert mod11.normalise("943 476 5919") == "9434765919"
    assert mod11.normalise("9434765918") is None
    assert pattern.normalise(" ci-123456 ") == "CI123456"
    assert pattern.normalise("CI12345") is None


def test_shared_id_settings_are_checked() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="fields of their own"):
        LinkageSettings(shared_ids=[{"scheme": "nhs"}])
    with pytest.raises(ValidationError, match="not a regular expression"):
        LinkageSettings(shared_ids=[{"scheme": "x", "format": "("}])
    with pytest.raises(ValidationError, match="once"):
        LinkageSettings(shared_ids=[{"scheme": "x"}, {"scheme": "x"}])
    rules = rules_from(LinkageSettings(shared_ids=[{"scheme": "x", "unique": False}]))
    assert rules.shared["x"].near and not rules.shared["x"].unique
