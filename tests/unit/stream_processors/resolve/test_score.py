"""Scoring and constraints on realistic pairs (pseudonymised by the real stage)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

import pytest

from schemas.models import Role, Sex
from stream_processors.resolve.constraints import cannot_link
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord
from stream_processors.resolve.score import score_pair, score_reaching

MODEL = load_model()
Make = Callable[..., LinkRecord]


def _levels(a: LinkRecord, b: LinkRecord) -> dict[str, str]:
    return {e.comparison: e.level for e in score_pair(a, b, MODEL).evidence}


def linked(a: LinkRecord, b: LinkRecord) -> bool:
    return cannot_link(a, b) is None and score_pair(a, b, MODEL).weight >= MODEL.link_threshold


@pytest.mark.parametrize(
    "change",
    [
        {"given_names": "Amrara"},  # typo
        {"family_name": "Okafur"},  # typo
        {"date_of_birth": dt.date(2023, 5, 4)},  # day/month swapped
        {"postcode": "SW9 7AA"},  # moved
        {"given_names": "Okafor", "family_name": "Amara"},  # names in the other fields
        {"postcode": None, "nhs_number": None},  # community record: fewer fields
    ],
)
def test_same_child_recorded_differently_links(link: Make, change: dict[str, object]) -> None:
    a, b = link(), link(**change)
    assert linked(a, b), score_pair(a, b, MODEL)


def test_levels_name_the_variation(link: Make) -> None:
    base = link()
    assert _levels(base, link(date_of_birth=dt.date(2023, 5, 4)))["dob"] == "day_month_swapped"
    swapped = _levels(base, link(given_names="Okafor", family_name="Amara"))
    assert swapped["given"] == "swapped_with_family"
    assert _levels(base, link(given_names="Amara Ngozi"))["given"] == "exact"
    liz = link(given_names="Elizabeth", family_name="Taylor")
    assert _levels(liz, link(given_names="Liz", family_name="Taylor"))["given"] == "nickname"


def test_surname_change_is_recognised(link: Make) -> None:
    mother = dict(role=Role.PARENT, date_of_birth=dt.date(1990, 2, 3), given_names="Ngozi")
    before = link(family_name="Adeyemi", **mother)
    after = link(family_name="Okafor", former_family_names=["Adeyemi"], **mother)
    assert _levels(before, after)["family"] == "former_name"
    assert linked(before, after)


def test_twins_are_kept_apart(link: Make) -> None:
    a = link(given_names="Amara", nhs_number=None)
    b = link(given_names="Chiamaka", nhs_number=None)
    assert cannot_link(a, b) == "twins"
    assert cannot_link(a, link(given_names="Amarra")) is None  # a typo is not a twin


def test_different_nhs_numbers_never_link(link: Make) -> None:
    a, b = link(nhs_number="9434765919"), link(nhs_number="9990001006")
    assert cannot_link(a, b) == "different_nhs"


def test_child_and_adult_never_link(link: Make) -> None:
    assert cannot_link(link(), link(role=Role.PARENT)) == "child_and_adult"


def test_siblings_do_not_link(link: Make) -> None:
    older = link(given_names="Kofi", sex=Sex.MALE, date_of_birth=dt.date(2021, 8, 1))
    assert not linked(link(), older)


def test_scores_are_symmetric_and_explained(link: Make) -> None:
    a, b = link(), link(given_names="Amrara")
    ab, ba = score_pair(a, b, MODEL), score_pair(b, a, MODEL)
    assert ab.weight == pytest.approx(ba.weight)
    explained = ab.as_json(MODEL.version)
    assert explained["model_version"] == MODEL.version
    comparisons = explained["comparisons"]
    assert isinstance(comparisons, list)
    assert {c["comparison"] for c in comparisons} >= {"dob", "given", "family"}


@pytest.mark.parametrize(
    ("given", "family"), [("Александра", "Иванова"), ("فاطمة", "الحسيني"), ("明", "王")]
)
def test_a_name_in_another_script_recorded_the_same_way_by_two_sources_links(
    link: Make, given: str, family: str
) -> None:
    a = link(source="cc", given_names=given, family_name=family, postcode=None)
    b = link(source="hv", given_names=given, family_name=family)
    levels = _levels(a, b)
    assert (levels["given"], levels["family"]) == ("exact", "exact")
    assert linked(a, b)
    stranger = link(source="hv", given_names="Мария", family_name="Смирнова")
    assert _levels(a, stranger)["given"] != "exact"


def test_one_child_whose_name_is_spelt_two_ways_is_not_taken_for_twins(link: Make) -> None:
    a = link(given_names="Aimee", date_of_birth=dt.date(2023, 4, 5))
    b = link(given_names="Amy", date_of_birth=dt.date(2023, 4, 5))  # same NYSIIS code
    assert cannot_link(a, b) is None
    twin = link(given_names="Chidi", date_of_birth=dt.date(2023, 4, 5))
    assert cannot_link(a, twin) == "twins"


def test_a_date_of_birth_with_one_digit_typed_wrong_is_its_own_level(link: Make) -> None:
    base = link(date_of_birth=dt.date(2023, 4, 5))
    assert _levels(base, link(date_of_birth=dt.date(2023, 4, 6)))["dob"] == "one_digit"
    assert _levels(base, link(date_of_birth=dt.date(2021, 4, 5)))["dob"] == "one_digit"
    assert _levels(base, link(date_of_birth=dt.date(2023, 4, 27)))["dob"] == "year_month"
    assert b"20230405" not in b"".join(base.multi["dob_near"])  # tokens, not digits


def test_a_one_edit_typo_is_its_own_level(link: Make) -> None:
    base = link(given_names="Amarachi", family_name="Okafor")
    assert _levels(base, link(given_names="Amarahci", family_name="Okafor"))["given"] == "one_edit"
    assert _levels(base, link(given_names="Amarachi", family_name="Okafro"))["family"] == "one_edit"
    assert _levels(base, link(given_names="Chidi", family_name="Okafor"))["given"] == "else"


def test_a_swap_with_a_typo_in_one_name_is_crossed(link: Make) -> None:
    base = link(given_names="Amara", family_name="Okafor")
    crossed = _levels(base, link(given_names="Okafor", family_name="Amarra"))
    assert crossed["given"] == "crossed_with_family"
    assert crossed["family"] == "crossed_with_given"
    assert _levels(base, link(given_names="Okafor", family_name="Zed"))["given"] == "else"


def test_postcode_and_address_together_say_more_than_the_postcode(link: Make) -> None:
    home = link(address_line="12 Pinkerton Road", given_names="Zed")
    same = _levels(home, link(address_line="12 Pinkerton Road"))
    assert same["location"] == "postcode_address"
    assert _levels(home, link(address_line="3 Elm Close"))["location"] == "postcode"
    assert MODEL.weight("location", "postcode_address") > MODEL.weight("location", "postcode")


@pytest.mark.parametrize(
    ("first", "second", "twins"),
    [
        ("Ella", "Emma", True),  # short names one edit apart: two names
        ("Amara", "Zainab", True),  # clearly different names
        ("Amara", "Amarra", False),  # a typo in a longer name
        ("Christopher", "Christohper", False),  # a transposition
        ("Elizabeth", "Liz", False),  # a short form
        ("Muhammad", "Mo", False),  # a short form of another spelling of the name
        ("Harry", "Hrry", False),  # a letter dropped from a short name: a typo
        ("Freya", "Freeya", False),  # a letter doubled in a short name: a typo
        ("Ananya", "Aannya", False),  # two letters transposed: a typo, however short
        ("Ava", "Eva", True),  # short names one letter changed: two names
        ("Lily", "Lila", True),
    ],
)
def test_the_twins_rule_both_ways(link: Make, first: str, second: str, twins: bool) -> None:
    a, b = link(given_names=first), link(given_names=second)
    assert (cannot_link(a, b) == "twins") is twins


def test_twins_recorded_family_name_first_are_kept_apart(link: Make) -> None:
    # twins Precious and Oluwaseun Olawale; one source writes the family name first
    precious = link(given_names="Precious", family_name="Olawale")
    precious_first = link(given_names="Olawale", family_name="Precious")
    oluwaseun_first = link(given_names="Olawale", family_name="Oluwaseun")
    assert cannot_link(precious, oluwaseun_first) == "twins"
    assert cannot_link(oluwaseun_first, precious) == "twins"
    assert cannot_link(precious_first, oluwaseun_first) is None  # a shared given name: no rule
    assert cannot_link(precious, precious_first) is None  # one child, names swapped
    assert cannot_link(precious, link(given_names="Olawale", family_name="Precous")) is None


def test_one_child_recorded_family_name_first_with_a_typo_or_short_form_is_not_twins(
    link: Make,
) -> None:
    emeka = link(given_names="Emeka", family_name="Adeyemi")
    assert cannot_link(emeka, link(given_names="Adeyemi", family_name="Emea")) is None
    oluwaseun = link(given_names="Oluwaseun Abena", family_name="Oduya")
    assert cannot_link(oluwaseun, link(given_names="Oduya", family_name="Seun")) is None
    assert cannot_link(emeka, link(given_names="Adeyemi", family_name="Chidi")) == "twins"


def test_scoring_stops_early_only_for_pairs_that_cannot_reach_the_line(link: Make) -> None:
    """``score_reaching`` gives up on a pair as soon as the comparisons left cannot lift it to
    the line: it must never give up on a pair ``score_pair`` puts at or over it, and a pair
    it does score scores the same, at every line (term frequencies from the records, a rare
    name weighing most)."""
    variants: list[dict[str, object]] = [
        {},
        {"given_names": "Amrara"},
        {"given_names": "Okafor", "family_name": "Amara"},
        {"date_of_birth": dt.date(2023, 5, 4)},
        {"date_of_birth": dt.date(2021, 1, 1), "postcode": "N1 9GU"},
        {"given_names": "Zed", "family_name": "Quist", "postcode": "SE11 5QZ"},
        {"sex": Sex.MALE, "given_names": "Tobi"},
        {"postcode": None, "nhs_number": "9434765919"},
        {"nhs_number": "9434765919"},
        {"role": Role.PARENT, "given_names": "Ngozi", "date_of_birth": dt.date(1990, 2, 3)},
    ]
    records = [link(**v) for v in variants]
    live = MODEL.counted_terms(records)
    gave_up = 0
    for line in (-math.inf, MODEL.link_threshold, 0.0, 12.0, 40.0):
        for a in records:
            for b in records:
                whole = score_pair(a, b, MODEL, live)
                early = score_reaching(a, b, MODEL, line, live)
                if early is None:
                    gave_up += 1
                    assert whole.weight < line, (line, whole)
                else:
                    assert early == whole
    assert gave_up > 0  # the early stop was exercised


def test_names_crossed_with_a_typo_when_the_family_field_holds_both_given_names(
    link: Make,
) -> None:
    """A source writing the family name first puts "Kwabena Kwame" in the family field and
    "Mensah", misspelt, in the given name field: the given name is the first part of the
    other's family field, so the names are crossed (one exact, one near), as a plain swap is."""
    a = link(given_names="Kwabena Kwame", family_name="Mensah", sex=Sex.MALE)
    b = link(given_names="Mensak", family_name="Kwabena Kwame", sex=Sex.MALE)
    assert _levels(a, b)["given"] == "crossed_with_family"
    assert _levels(b, a)["family"] == "crossed_with_given"
    assert linked(a, b)


def test_a_street_that_agrees_beside_a_town_that_does_not_still_counts(link: Make) -> None:
    # one line holding both (PersonRecord v2): a town typed differently drags the street down
    one_line = link(address_line="12 Pinkerton Road, Kingston", given_names="Zed")
    other_town = link(address_line="12 Pinkerton Road, Surbiton", given_names="Zed")
    assert _levels(one_line, other_town)["location"] == "postcode"
    # the town apart (v3): the street agrees whole, and the town is weighed on its own
    street = dict(address_line="12 Pinkerton Road", given_names="Zed")
    home = link(locality="Kingston", **street)
    levels = _levels(home, link(locality="Surbiton", **street))
    assert (levels["location"], levels["locality"]) == ("postcode_address", "else")
    assert _levels(home, link(locality="Kingstn", **street))["locality"] == "dice_70"
    assert _levels(home, link(locality="Kingston", **street))["locality"] == "dice_90"
    assert MODEL.weight("locality", "dice_90") > 0 > MODEL.weight("locality", "else")
    assert "locality" not in _levels(one_line, other_town)  # absent: no evidence either way


def test_presence_worked_out_per_record_is_the_pairwise_presence(link: Make) -> None:
    """The scorer of a batch works out once per record which comparisons it has the data for
    (``Model.presence``) and takes a pair's comparisons from the two (``Model.present_in``):
    the same comparisons, in the same order, as asking each comparison of the pair, and the
    same scores, for records with and without each field (shared ids among them: a pair must
    hold one in the same scheme)."""
    variants: list[dict[str, object]] = [
        {},
        {"postcode": None, "nhs_number": None},
        {"date_of_birth": None, "given_names": None},
        {"sex": Sex.NOT_KNOWN, "family_name": None},
        {"nhs_number": "9434765919"},
        {"role": Role.PARENT, "nhs_number": None, "postcode": None},
    ]
    records = [link(**v) for v in variants]
    records += [  # shared ids: in one scheme, in two, and in another scheme only
        link(local_ids=[{"scheme": "client-index", "value": "CI123456"}]),
        link(
            local_ids=[
                {"scheme": "client-index", "value": "CI123456"},
                {"scheme": "family-case", "value": "F77"},
            ]
        ),
        link(local_ids=[{"scheme": "family-case", "value": "F78"}]),
    ]
    live = MODEL.counted_terms(records)
    masks = {id(r): MODEL.presence(r) for r in records}
    assert len(set(masks.values())) > 4  # the records differ in what they hold
    for a in records:
        for b in records:
            present = MODEL.present_in(masks[id(a)] & masks[id(b)], a, b)
            assert list(present) == [c for c in MODEL.comparisons if c.present(a, b)]
            for line in (-math.inf, MODEL.link_threshold):
                assert score_reaching(a, b, MODEL, line, live, present) == score_reaching(
                    a, b, MODEL, line, live
                )


def test_a_records_presence_is_kept_per_model(link: Make) -> None:
    """A record is scored against many others over many batches, so its presence bits are
    kept with it; two models (another order of comparisons: other bits) each get their own."""
    record = link(postcode=None)
    other = dataclasses.replace(MODEL, comparisons=tuple(reversed(MODEL.comparisons)))
    first, second = MODEL.presence(record), other.presence(record)
    assert first != second
    assert (MODEL.presence(record), other.presence(record)) == (first, second)
    n = len(MODEL.comparisons)
    assert second == int(f"{first:0{n}b}"[::-1], 2)  # the same comparisons, bits reversed
