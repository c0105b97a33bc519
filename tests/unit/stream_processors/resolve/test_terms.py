"""Term frequencies the resolver keeps: buckets, when they move, and the weights they give."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from sink.rows import BlockKey, ScoredEdge
from stream_processors.resolve import terms
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord
from stream_processors.resolve.score import relinked, reweighed, score_pair

MODEL = load_model()


def test_buckets_are_powers_of_four_exactly() -> None:
    for count in range(1, 5000):
        j = terms.bucket(count)
        assert 4**j <= count < 4 ** (j + 1), count
    assert terms.bucket(0) == terms.bucket(1) == terms.bucket(3) == 0
    assert [terms.bucket(n) for n in (4, 15, 16, 63, 64)] == [1, 1, 2, 2, 3]


def test_a_count_moving_within_its_bucket_moves_nothing() -> None:
    a, b, c = b"a" * 16, b"b" * 16, b"c" * 16
    after = {a: 5, b: 16, c: 3}  # a: 4 -> 5 (one bucket); b: 15 -> 16 (next); c: 4 -> 3 (back)
    counts = terms.recount(after, {c: -1, a: 1, b: 1}, {a: "gname"})
    assert counts.then == {a: 4, b: 15, c: 4}
    assert counts.moved == terms.Moved(up=[b], down=[c])
    gone = terms.recount({}, {a: -4}, {})  # the last four holders left
    assert gone.moved == terms.Moved(up=[], down=[a])


def test_a_holder_leaving_as_another_joins_moves_no_count() -> None:
    a, b = b"a" * 16, b"b" * 16
    gone = [BlockKey(a, "r1"), BlockKey(b, "r1")]
    new = [BlockKey(a, "r2"), BlockKey(b, "r2"), BlockKey(b, "r3"), BlockKey(b, "r4")]
    counts = terms.recount({b: 9}, terms.difference(gone, new), {})
    assert counts.then == {b: 7} and counts.now == {b: 9}  # a: one left, one came
    assert counts.moved == terms.Moved(up=[], down=[])


def test_only_the_rows_that_changed_are_written() -> None:
    a, b, c = b"a" * 16, b"b" * 16, b"c" * 16
    held = [BlockKey(a, "r1"), BlockKey(b, "r1"), BlockKey(a, "r2")]
    holding = [BlockKey(a, "r1"), BlockKey(c, "r1"), BlockKey(a, "r2"), BlockKey(b, "r3")]
    gone, new = terms.changes(held, holding)
    assert gone == [BlockKey(b, "r1")]
    assert new == [BlockKey(b, "r3"), BlockKey(c, "r1")]
    assert terms.changes(held, held) == ([], [])  # the same names again: nothing to write


def test_the_kinds_counted_are_the_levels_that_adjust() -> None:
    assert terms.kinds_of(MODEL.comparisons) == ("fname", "gname")


def _counts(record: LinkRecord, n: int) -> terms.TermCounts:
    return terms.TermCounts({("gname", record.tokens["gname"]): n}, 40_000, MODEL.tf_min_u)


def test_a_common_name_agreeing_weighs_less_than_a_rare_one(
    link: Callable[..., LinkRecord],
) -> None:
    a, b = link(), link(source="cc")
    rare, common = _counts(a, 2), _counts(a, 800)

    def given(live: terms.TermCounts | None) -> float:
        return next(
            e.weight for e in score_pair(a, b, MODEL, live).evidence if e.comparison == "given"
        )

    assert given(rare) > given(None) > given(common)
    m = MODEL.probabilities["given"]["exact"][0]
    frequency = common.frequency("gname", a.tokens["gname"])
    assert 800 / 40_000 / 2 <= frequency <= 800 / 40_000 * 2  # a bit at most
    assert MODEL.weight("given", "exact", a.tokens["gname"], common) == pytest.approx(
        math.log2(m / frequency)
    )


def test_unseen_and_rare_tokens_are_floored() -> None:
    counts = terms.TermCounts({}, 10**9, 1e-5)
    assert counts.frequency("gname", b"x") == 1e-5
    small = terms.TermCounts({}, 100, 1e-5)
    assert small.frequency("gname", b"x") == pytest.approx(2 / 100)  # as the bucket of 1 to 3


def test_a_model_with_its_own_table_ignores_the_store(link: Callable[..., LinkRecord]) -> None:
    a, b = link(), link(source="cc")
    trained = replace(MODEL, tf={"gname": {a.tokens["gname"].hex(): 0.01}}, tf_total={"gname": 9})
    assert not trained.counts_terms and MODEL.counts_terms
    assert trained.term_kinds == ()  # nothing counted: the index is rebuilt without them
    assert trained.blocking_version != MODEL.blocking_version
    assert score_pair(a, b, trained, _counts(a, 2)) == score_pair(a, b, trained, _counts(a, 900))


def test_counted_over_records_is_what_the_store_holds(link: Callable[..., LinkRecord]) -> None:
    records = [link(), link(source="cc"), link(given_names="Zainab")]
    batch = terms.counted(records, ("gname",), 100, 1e-5)
    held = Counter(key for r in records for key in terms.term_keys(r, ("gname",)).values())
    live = terms.live_counts(records, ("gname",), held, 100, 1e-5)
    assert batch.counts[("gname", records[0].tokens["gname"])] == 2
    for r in records:
        token = r.tokens["gname"]
        assert live.frequency("gname", token) == batch.frequency("gname", token)


def test_keys_say_nothing_of_the_token_and_differ_by_kind(link: Callable[..., LinkRecord]) -> None:
    r = link()
    keys = terms.term_keys(r, ("gname", "fname"))
    assert set(keys) == {"gname", "fname"} and len(set(keys.values())) == 2
    assert all(r.tokens[k] not in key for k, key in keys.items())


def test_the_model_expects_as_many_records_as_its_prior_says() -> None:
    assert MODEL.live_records == 40_000
    assert replace(MODEL, prior=1 / 5000).live_records == 5000


def test_a_link_reweighed_is_the_pair_scored_again(link: Callable[..., LinkRecord]) -> None:
    a, b = link(), link(source="cc", postcode="E1 6AN")
    both = {("gname", a.tokens["gname"]), ("fname", a.tokens["fname"])}
    then = terms.TermCounts(dict.fromkeys(both, 3), 40_000, MODEL.tf_min_u)
    now = terms.TermCounts(dict.fromkeys(both, 7), 40_000, MODEL.tf_min_u)
    before, after = score_pair(a, b, MODEL, then), score_pair(a, b, MODEL, now)
    stored = ScoredEdge(a.record_key, b.record_key, before.weight, before.as_json(MODEL.version))
    shares = [terms.share(n, 40_000, MODEL.tf_min_u) for n in (3, 7)]
    moved = {kind: (shares[0], shares[1]) for kind in ("gname", "fname")}
    again = reweighed(stored, moved, MODEL)
    assert again.weight == pytest.approx(after.weight, abs=1e-9) and after.weight < before.weight
    assert again.evidence == after.as_json(MODEL.version)
    only_given = reweighed(stored, {"gname": moved["gname"]}, MODEL)
    assert after.weight < only_given.weight < before.weight


def test_links_sharing_a_token_that_moved_are_reweighed_and_others_left(
    link: Callable[..., LinkRecord],
) -> None:
    a, b = link(), link(source="cc", postcode="E1 6AN")
    c = link(source="hv", given_names="Amarra")  # one letter apart: not the same token
    counts = terms.TermCounts(
        {("gname", a.tokens["gname"]): 3, ("fname", a.tokens["fname"]): 3}, 40_000, 1e-5
    )
    score = score_pair(a, b, MODEL, counts)
    ab = ScoredEdge(a.record_key, b.record_key, score.weight, score.as_json(MODEL.version))
    ac = ScoredEdge(a.record_key, c.record_key, score.weight, score.as_json(MODEL.version))
    given = terms.term_key("gname", a.tokens["gname"])
    holding = {a.record_key: {given}, b.record_key: {given}}  # c holds another given name
    up = terms.recount({given: 7}, {given: 4}, {given: "gname"})
    again = relinked([ab, ac], holding, up, MODEL)
    assert again.pairs == [(ab.a, ab.b)] and not again.gone
    assert again.kept[0].weight < ab.weight
    # a move far enough takes the link under the threshold: it goes
    lower = replace(MODEL, link_threshold=again.kept[0].weight + 0.01)
    assert relinked([ab], holding, up, lower).gone == {ab.a, ab.b}


def test_how_counts_are_bucketed_is_part_of_a_counting_models_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other buckets give other weights: a deployment's resolver must see a new model (and
    ask for ``earlylink relink``), as for a new file. A model with a table is not affected."""
    trained = replace(MODEL, tf={"gname": {}}, tf_total={"gname": 9})
    before = (replace(MODEL).version, trained.version)
    monkeypatch.setattr(terms, "BUCKET_BITS", 1)
    after = (replace(MODEL).version, replace(trained).version)
    assert after[0] != before[0] and after[1] == before[1]


def test_a_batch_run_counts_as_the_store_would(link: Callable[..., LinkRecord]) -> None:
    records = [link(), link(source="cc"), link(given_names="Zainab")]
    counts = MODEL.counted_terms(records)
    assert counts is not None and counts.records == MODEL.live_records
    assert counts.counts[("gname", records[0].tokens["gname"])] == 2
    assert counts.counts[("fname", records[0].tokens["fname"])] == 3
    trained = replace(MODEL, tf={"gname": {}}, tf_total={"gname": 9})
    assert trained.counted_terms(records) is None
