"""The synthetic borough: deterministic, realistic, and with the truth kept out of events."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import lru_cache

import pytest

from producers.synthetic.identifiers import nhs_check_digit, upn
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import PersonRecord, Role
from schemas.wire import encode


@lru_cache(maxsize=2)
def borough(families: int = 1200, seed: int = 11) -> tuple[BoroughGenerator, tuple[object, ...]]:
    generator = BoroughGenerator(families, seed)
    return generator, tuple(generator.events())


def _persons() -> list[PersonRecord]:
    return [e for e in borough()[1] if isinstance(e, PersonRecord)]


def test_same_seed_same_events_other_seed_other_events() -> None:
    first = BoroughGenerator(150, 3).events()
    again = BoroughGenerator(150, 3).events()
    other = BoroughGenerator(150, 4).events()
    assert [e.to_avro() for e in first] == [e.to_avro() for e in again]
    assert [e.envelope.event_id for e in first] != [e.envelope.event_id for e in other]


def test_sized_like_the_programme_per_family() -> None:
    generator, _ = borough()
    children = sum(len(f.children) for f in generator.families)
    # the programme: ~15,000 families and ~14,000 children
    assert 0.85 < children / len(generator.families) < 1.0
    assert len({p.service.code for p in generator.plans}) >= 20


def test_events_are_in_time_order_and_ids_unique() -> None:
    events = borough()[1]
    times = [e.envelope.event_time for e in events]  # type: ignore[attr-defined]
    assert times == sorted(times)
    ids = [e.envelope.event_id for e in events]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))


def test_every_event_encodes_with_its_contract() -> None:
    for event in borough()[1][:3000]:
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)  # type: ignore[attr-defined]
        assert encode(version, event.to_avro())  # type: ignore[attr-defined]


def test_realities_are_present() -> None:
    generator, _ = borough()
    flags = Counter(f for row in generator.truth() for f in row.flags.split(";") if f)
    for flag in (
        "typo_given",
        "typo_family",
        "nickname",
        "swap_day_month",
        "renamed_baby",
        "moved",
        "opted_out",
        "invalid_nhs",
        "family_name_first",
        "missing_dob",
    ):
        assert flags[flag] > 0, flag
    twins = [c for f in generator.families for c in f.children if c.twin_of]
    assert twins and all(
        t.dob
        == next(
            c
            for c in generator.families[int(t.family_id[1:]) - 1].children
            if c.person_id == t.twin_of
        ).dob
        for t in twins
    )


def test_truth_asked_first_is_the_truth_of_the_events() -> None:
    """The flags are known once events are made; asking for the truth first must not give a
    borough without typos, nor a second pass other events."""
    first = BoroughGenerator(150, 3)
    truth_first = list(first.truth())
    events = first.events()
    then = BoroughGenerator(150, 3)
    assert [e.to_avro() for e in events] == [e.to_avro() for e in then.events()]
    assert truth_first == list(then.truth()) == list(first.truth())
    assert any(row.flags for row in truth_first)
    assert first.events() is events


def test_placeholder_babies_are_renamed_in_a_later_version() -> None:
    by_record: dict[str, list[PersonRecord]] = {}
    for person in _persons():
        by_record.setdefault(person.record_id, []).append(person)
    renamed = [
        v for v in by_record.values() if v[0].given_names in ("Baby", "Infant of") and len(v) > 1
    ]
    assert renamed
    for versions in renamed:
        assert versions[-1].given_names not in ("Baby", "Infant of")
        assert [v.record_version for v in versions] == list(range(1, len(versions) + 1))


def test_nhs_numbers_only_from_the_test_range_and_mostly_in_health() -> None:
    persons = _persons()
    with_nhs = [p for p in persons if p.nhs_number]
    assert all(p.nhs_number.startswith("999") for p in with_nhs)  # type: ignore[union-attr]
    valid = [p for p in with_nhs if nhs_check_digit(p.nhs_number[:9]) == int(p.nhs_number[9])]  # type: ignore[index]
    assert 0.98 < len(valid) / len(with_nhs) < 1.0  # a few invalid ones, on purpose
    community = [p for p in persons if p.envelope.source_system.startswith("childrens-centre")]
    assert community and not any(p.nhs_number for p in community)


def test_children_link_to_their_mothers_record_in_the_same_source() -> None:
    persons = _persons()
    ids = {(p.envelope.source_system, p.record_id) for p in persons}
    related = [p for p in persons if p.related]
    assert related
    for person in related:
        assert person.role is Role.CHILD
        assert (person.envelope.source_system, person.related[0].record_id) in ids


def test_truth_never_enters_events() -> None:
    generator, events = borough()
    person_ids = {p.person_id for f in generator.families for p in f.members}
    text = " ".join(repr(e) for e in events[:20000])
    assert not any(pid in text for pid in list(person_ids)[:500])
    assert "F000" not in text


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_upn_check_letter_is_from_the_dfe_alphabet(seed: int) -> None:
    import random

    value = upn(random.Random(seed))
    assert len(value) == 13 and value[0] in "ABCDEFGHJKLMNPQRTUVWXYZ" and value[1:].isdigit()


def test_event_dates_within_the_programme_window() -> None:
    for event in borough()[1]:
        assert dt.date(2020, 1, 1) <= event.envelope.event_time.date() <= dt.date(2026, 6, 1)  # type: ignore[attr-defined]


def test_services_are_a_table_the_code_reads() -> None:
    from producers.synthetic.services import SERVICE_BY_CODE, SERVICES, Service, load_services
    from schemas.models import ContactType

    assert len(SERVICES) == len(SERVICE_BY_CODE) >= 20
    births = SERVICE_BY_CODE["maternity-births"]
    assert births.placeholder_babies and births.contacts == (1, 1)
    assert births.contact_type is ContactType.APPOINTMENT
    (one,) = load_services(
        "- {code: x, kind: community, reach_children: 0.1, reach_mothers: 0, reach_partners: 0,"
        " nhs: 0, contact_type: SESSION, activities: [a, b]}"
    )
    assert one == Service("x", "community", 0.1, 0, 0, 0, ContactType.SESSION, ("a", "b"))
