"""Why a pair is wrong: each cause, found on pairs made for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from stream_processors.resolve.diagnose import by_cause, misses, unblocked
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord

Make = Callable[..., LinkRecord]
MODEL = load_model()


def test_each_wrong_pair_gets_its_cause(link: Make) -> None:
    child = link(record_id="a")
    typo = link(record_id="b", given_names="Amarra")  # same child, linked
    far = link(  # same child, nothing blocks it with the others
        record_id="c", given_names="Zed", family_name="Q", date_of_birth=None, postcode=None
    )
    twin = link(record_id="d", given_names="Chidi")  # another child, kept apart as a twin
    stranger = link(record_id="e", given_names="Amara", postcode="N1 1AA")
    truth = {"a": "P1", "b": "P1", "c": "P1", "d": "P1", "e": "P2"}
    keyed = {
        r.record_key: truth[k]
        for k, r in zip("abcde", (child, typo, far, twin, stranger), strict=True)
    }
    predicted = {child.record_key: "X", typo.record_key: "X", far.record_key: "Y"}
    predicted |= {twin.record_key: "Z", stranger.record_key: "X"}
    found = misses([child, typo, far, twin, stranger], keyed, predicted, MODEL, cap=100)
    causes = {(m.kind, m.cause) for m in found}
    assert ("false_negative", "never_blocked") in causes
    assert ("false_negative", "constraint:twins") in causes
    assert ("false_positive", "linked") in causes
    assert sum(n for _, _, n in by_cause(found)) == len(found)
    text = " ".join(m.describe() for m in found)
    for value in ("Amara", "Okafor", "Chidi", "SE11", str(dt.date(2023, 4, 5))):
        assert value not in text  # keys, levels and weights only


def test_true_pairs_no_key_joins_are_grouped_by_their_levels(link: Make) -> None:
    """What blocking recall misses, whether or not clustering joins the pair through others:
    each level pattern with its count, most first, levels only."""
    child = link(record_id="a")
    moved = dict(date_of_birth=None, postcode="N1 1AA")
    far = [link(record_id=f"f{i}", given_names="Zed", family_name="Q", **moved) for i in "12"]
    near = link(record_id="n", given_names="Amarra")  # blocked with the child: not listed
    records = [child, *far, near]
    truth = {r.record_key: "P1" for r in records}
    patterns = unblocked(records, truth, MODEL, cap=100)
    assert sum(n for _, n in patterns) == 4  # each far copy with the child and the near one
    assert [n for _, n in patterns] == sorted((n for _, n in patterns), reverse=True)
    for levels, _ in patterns:
        assert "given=else" in levels and "family=else" in levels
        assert all("=" in level and "Amara" not in level for level in levels)
    assert unblocked(records, truth, MODEL, cap=1) != patterns  # every block past the cap
