"""Blocking rules as data: keys from tokens, optional and unordered parts, the cap."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from schemas.models import Role
from stream_processors.resolve.blocking import candidate_pairs, crossed_cap, keys_of, rule_from
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord

Make = Callable[..., LinkRecord]
RULES = load_model().blocking


def _meet(a: LinkRecord, b: LinkRecord, rules: Any = RULES) -> bool:
    return bool(set(keys_of(a, rules)) & set(keys_of(b, rules)))


def test_a_rule_keys_records_that_agree_on_every_part(link: Make) -> None:
    rule = [rule_from({"name": "dob_family", "on": [["dob"], ["family_ph"]]})]
    a = link(given_names="Zed", postcode="N1 1AA")
    assert _meet(a, link(given_names="Amy", family_name="Okafor"), rule)
    assert not _meet(a, link(date_of_birth=dt.date(2023, 4, 6)), rule)
    assert len(keys_of(link(date_of_birth=None), rule)) == 0  # a part missing: no key


def test_an_optional_part_keys_a_record_without_it(link: Make) -> None:
    rule = [rule_from({"name": "dob_district", "on": [["dob"], ["district", None]]})]
    assert _meet(link(postcode=None, given_names="A"), link(postcode=None, given_names="B"), rule)
    assert not _meet(link(postcode="N1 1AA"), link(postcode="SE11 5QY"), rule)


def test_unordered_rules_meet_names_recorded_in_each_others_fields(link: Make) -> None:
    rule = [rule_from({"name": "n", "on": [["gname"], ["fname"]], "unordered": True})]
    ordered = [rule_from({"name": "n", "on": [["gname"], ["fname"]]})]
    a, b = link(), link(given_names="Okafor", family_name="Amara")
    assert _meet(a, b, rule)
    assert not _meet(a, b, ordered)


def test_a_former_family_name_meets_the_current_one(link: Make) -> None:
    rule = [rule_from({"name": "former_dob", "on": [["dob"], ["fname", "fname_alt"]]})]
    married = link(family_name="Adeyemi", former_family_names=["Okafor"], given_names="Z")
    assert _meet(married, link(given_names="Q", postcode="N1 1AA"), rule)


def test_children_and_adults_never_share_a_key(link: Make) -> None:
    child = link()
    adult = link(role=Role.PARENT, date_of_birth=dt.date(1990, 4, 5))
    same_dob_adult = link(role=Role.PARENT, date_of_birth=dt.date(2023, 4, 5))
    assert not _meet(child, same_dob_adult)
    assert not _meet(child, adult)


def test_keys_reveal_no_token(link: Make) -> None:
    record = link()
    keys = set(keys_of(record, RULES))
    assert not keys & set(record.tokens.values())


def test_keys_past_the_cap_make_no_pairs(link: Make) -> None:
    crowd = [link(record_id=f"r{i}", given_names=f"N{i}x", postcode=None) for i in range(5)]
    rule = [rule_from({"name": "dob", "on": [["dob"]]})]
    assert len(candidate_pairs(crowd, rule, cap=5)) == 10
    assert candidate_pairs(crowd, rule, cap=4) == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "on": []}, "needs parts"),
        ({"name": "x", "on": [[]]}, "needs parts"),
    ],
)
def test_a_bad_rule_is_a_clear_error(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule_from(spec)


def test_lsh_bands_meet_similar_encodings_only(link: Make) -> None:
    rule = [
        rule_from(
            {
                "name": "a",
                "on": [["fname"]],
                "lsh": {"encoding": "address", "bands": 16, "bits": 20},
            }
        )
    ]
    home = link(address_line="12 Pinkerton Road, Kennington", postcode=None, given_names="A")
    typo = link(address_line="12 Pinkerton Raod, Kennington", postcode=None, given_names="B")
    other = link(address_line="3 Elm Close, Brixton", postcode=None, given_names="C")
    assert _meet(home, typo, rule)
    assert not _meet(home, other, rule)
    assert len(keys_of(home, rule)) == 16  # one key per band
    assert keys_of(link(address_line=None), rule) == ()


def test_an_lsh_rule_with_bad_numbers_is_refused() -> None:
    with pytest.raises(ValueError, match="bands and bits"):
        rule_from(
            {"name": "a", "on": [["fname"]], "lsh": {"encoding": "address", "bands": 0, "bits": 8}}
        )


def test_keys_that_cross_the_cap_either_way_are_redone() -> None:
    a, b, c = b"a", b"b", b"c"
    after = {a: 4, b: 3, c: 3}
    # a: 3 -> 4 (over a cap of 3); b: 4 -> 3 (back under); c: 2 -> 3 (still within)
    removed, added = Counter({b: 1}), Counter({a: 1, c: 1})
    assert crossed_cap(after, removed, added, cap=3) == [a, b]
    assert crossed_cap(after, Counter({a: 1}), Counter({a: 1}), cap=3) == []  # same holders
    assert crossed_cap({a: 4}, Counter(), Counter({a: 4}), cap=3) == [a]  # born too big
    assert crossed_cap({}, Counter({a: 4}), Counter(), cap=3) == [a]  # all four left


def test_a_family_name_in_the_same_town_meets_with_nothing_else_in_common(link: Make) -> None:
    # FEBRL's kind of copy: no date of birth, another given name, postcode and street mistyped
    first = link(family_name="Okafor", locality="Kingston", address_line="12 Mill Lane")
    other = dict(given_names="Zed", date_of_birth=None, postcode="N1 1AA", address_line="9 Elm")
    assert _meet(first, link(family_name="Okafor", locality="Kingston", **other))
    assert not _meet(first, link(family_name="Okafor", locality="Surbiton", **other))
    assert not _meet(first, link(family_name="Adeyemi", locality="Kingston", **other))
    # no town recorded (every source before PersonRecord v3): the rule adds no key at all
    assert keys_of(link(), RULES) == keys_of(link(locality=None), RULES)
    assert len(keys_of(link(locality="Kingston"), RULES)) > len(keys_of(link(), RULES))


def test_the_same_names_meet_after_a_move_to_another_district(link: Make) -> None:
    # the borough's commonest miss: an adult with no date of birth recorded, moved house
    first = link(role=Role.PARENT, date_of_birth=None, address_line="12 Mill Lane")
    moved = dict(role=Role.PARENT, date_of_birth=None, postcode="N1 1AA", address_line="9 Elm")
    assert _meet(first, link(**moved))
    assert _meet(first, link(given_names="Okafor", family_name="Amara", **moved))  # swapped
    assert not _meet(first, link(given_names="Zed", **moved))


def test_a_given_name_at_a_similar_address_meets_past_a_family_name_typo(link: Make) -> None:
    # FEBRL's kind of copy: no date of birth, the family name one edit away, postcode mistyped
    # (a near address meets by chance, banded: test_lsh_bands_meet_similar_encodings_only)
    first = link(date_of_birth=None, address_line="12 Pinkerton Circuit", postcode="N1 1AA")
    typo = dict(date_of_birth=None, family_name="Okafro", postcode="N1 1AB")
    assert _meet(first, link(address_line="12 Pinkerton Circuit", **typo))
    assert not _meet(first, link(address_line="7 Harbour Road", **typo))
    assert not _meet(first, link(given_names="Zed", address_line="12 Pinkerton Circuit", **typo))


def test_a_given_name_in_the_same_town_meets_past_a_family_name_typo(link: Make) -> None:
    first = link(date_of_birth=None, locality="Kingston", address_line="12 Mill Lane")
    other = dict(date_of_birth=None, family_name="Okafro", postcode="N1 1AA", address_line="9 Elm")
    assert _meet(first, link(locality="Kingston", **other))
    assert not _meet(first, link(locality="Surbiton", **other))


def test_both_names_one_edit_away_meet_in_the_same_town(link: Make) -> None:
    # FEBRL's kind of copy: a typo in each name, no date of birth, street and postcode mistyped
    first = link(given_names="Amara", family_name="Okafor", locality="Kingston")
    typos = dict(given_names="Amra", family_name="Okafro", date_of_birth=None, postcode="N1 1AA")
    assert _meet(first, link(locality="Kingston", address_line="9 Elm", **typos))
    assert not _meet(first, link(locality="Surbiton", address_line="9 Elm", **typos))
    names = dict(given_names="Zed", family_name="Ng")
    assert not _meet(first, link(locality="Kingston", address_line="9 Elm", **{**typos, **names}))


STREETS = ["Pinkerton Circuit", "Harbour Road", "Mill Lane", "Elm Close", "Wattle Avenue"]
ADDRESSES = [f"{n} {street}" for n in range(3, 60, 3) for street in STREETS]
TOWNS = [
    a + b for a in ("King", "Sur", "Wal", "Brix", "Mor") for b in ("ston", "ley", "ham", "ford")
]


def _typo(value: str, at: int) -> str:
    """``value`` with the lower-case letter at ``at`` replaced by the next one."""
    return value[:at] + chr((ord(value[at]) - 96) % 26 + 97) + value[at + 1 :]


@pytest.mark.parametrize(
    ("field", "values", "at", "elsewhere"),
    [
        ("address_line", ADDRESSES, 5, {}),  # the street's first letter after the number
        ("locality", TOWNS, 4, {"address_line": "9 Elm"}),
    ],
)
def test_a_one_letter_typo_in_the_address_or_town_meets_nearly_always(
    link: Make, field: str, values: list[str], at: int, elsewhere: dict[str, str]
) -> None:
    # with a family name and nothing else in common: the banded rules' chance to meet, over
    # many values (a typo flips ~20 of the encoding's 512 bits: a band of b bits misses it with
    # (1 - 20/512)^b; too few bands or too many bits and a pair in twenty is never compared)
    other = dict(given_names="Zed", date_of_birth=None, postcode="N1 1AA", **elsewhere)
    met = sum(
        _meet(link(**{field: value}), link(**{field: _typo(value, at)}, **other))
        for value in values
    )
    assert met >= 0.97 * len(values), f"{met} of {len(values)} met"
