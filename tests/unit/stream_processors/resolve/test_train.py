"""Training recovers sensible weights from unlabelled records (synthetic borough, no truth)."""

from __future__ import annotations

from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import PersonRecord
from schemas.wire import decode
from stream_processors.resolve.model import load_model
from stream_processors.resolve.records import LinkRecord, from_pseudo
from stream_processors.resolve.train import train
from tests.pseudonymised import forwarded


def _records(families: int, seed: int) -> list[LinkRecord]:
    """A small borough's person records, pseudonymised, as the resolver reads them."""
    people = [e for e in BoroughGenerator(families, seed).events() if isinstance(e, PersonRecord)]
    decoded = (decode(m, catalogue()).record for m in forwarded(people, b"t"))
    return [from_pseudo(r) for r in decoded if r["token_sets"]]


def test_em_learns_that_agreement_matters() -> None:
    records = _records(250, 9)
    model, report = train(records, load_model(), random_pairs=20_000)
    assert report.blocked_pairs > 1000
    assert 0.3 < report.match_share_of_blocked < 1.0
    assert model.weight("dob", "exact") > 5
    assert model.weight("given", "exact") > 3
    assert model.weight("given", "else") < 0
    assert model.weight("location", "postcode") > model.weight("location", "district")
    assert model.tf["fname"]  # frequent family-name tokens were counted
    assert model.version != load_model().version


def test_training_estimates_each_comparison_only_from_rules_off_its_own_fields() -> None:
    from stream_processors.resolve.train import TRAINING_RULES, ordered

    assert all(
        fixed <= {c.name for c in load_model().comparisons} for fixed in TRAINING_RULES.values()
    )
    # every comparison with a field of its own is estimated by at least one rule off that field
    for name in ("dob", "given", "family", "location"):
        assert any(name not in fixed for fixed in TRAINING_RULES.values())
    sane = ordered(
        {"dob": {"exact": (0.9, 0.001), "day_month_swapped": (0.5, 1e-6)}}, load_model().comparisons
    )
    m, u = sane["dob"]["day_month_swapped"]
    assert m / u <= 0.9 / 0.001 + 1e-9


def test_u_leaves_out_the_matches_among_random_pairs() -> None:
    """On a small data set about one random pair in a hundred here is a match: counted as a
    non-match, it makes agreement look ten times commoner by chance than it is."""
    from stream_processors.resolve.comparisons import NULL
    from stream_processors.resolve.train import estimate_u, refined_u

    model = load_model()
    comparisons = model.comparisons
    names = [c.name for c in comparisons]

    def pair(**levels: str) -> tuple[str, ...]:
        return tuple(levels.get(n, NULL) for n in names)

    match = pair(dob="exact", given="exact", family="exact", location="postcode_address")
    chance = pair(dob="exact", given="else", family="else", location="else")
    apart = pair(dob="else", given="else", family="else", location="else")
    vectors = [match] * 10 + [chance] + [apart] * 989
    m = {c: {lv: mu[0] for lv, mu in levels.items()} for c, levels in model.probabilities.items()}
    plain = estimate_u(vectors, comparisons)
    refined = refined_u(vectors, comparisons, m, plain, prior=0.01)
    assert plain["dob"]["exact"] > 0.01
    assert abs(refined["dob"]["exact"] - 1 / 990) < 2e-4  # the one agreement by chance
    assert refined["location"]["postcode_address"] < 1e-4
    assert abs(sum(refined["dob"].values()) - 1) < 1e-9


def test_a_level_no_random_pair_reached_is_floored_by_the_sample_size() -> None:
    """u of a level never seen among n random pairs is bounded by what n pairs can tell
    (half a pair), not by a constant: more pairs drawn, more weight it may carry."""
    from stream_processors.resolve.train import u_floor

    assert u_floor(200_000) == 2.5e-6
    assert u_floor(20_000) == 10 * u_floor(200_000)
    model, _ = train(_records(60, 3), load_model(), random_pairs=4_000)
    floored = [mu[1] for levels in model.probabilities.values() for mu in levels.values()]
    assert min(floored) == u_floor(4_000)  # some level no random pair reached sits on it
