"""What ``earlylink status`` says of linkage: the model, whether the resolver runs it, links
scored by older models, the store against the model's size, and the next step."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from earlylink.linkage_status import Stored, by_running, linkage_rows
from earlylink.relink import RelinkState
from stream_processors.resolve.model import load_model

SHIPPED = load_model()
TRAINED = replace(SHIPPED, tf={"gname": {"ab": 0.01}}, tf_total={"gname": 100}, prior=1 / 500)


def _rows(**kw: object) -> dict[str, str]:
    stored = Stored(
        running=kw.pop("running", SHIPPED.version),  # type: ignore[arg-type]
        relink=kw.pop("relink", None),  # type: ignore[arg-type]
        active=kw.pop("active", 1_000),  # type: ignore[arg-type]
        links=kw.pop("links", {SHIPPED.version: 700}),  # type: ignore[arg-type]
    )
    model = kw.pop("model", SHIPPED)
    return dict(linkage_rows(model, kw.pop("path", None), stored))  # type: ignore[arg-type]


def test_the_shipped_model_is_named_as_not_trained_and_the_next_step_is_training() -> None:
    rows = _rows()
    assert SHIPPED.version in rows["model"] and "not trained" in rows["model"]
    assert rows["resolver runs"] == "the configured model"
    assert "earlylink train" in rows["next step"] and "earlylink relink" in rows["next step"]


def test_a_trained_model_needs_no_training_step() -> None:
    rows = _rows(
        model=TRAINED,
        path=Path("/srv/model.json"),
        running=TRAINED.version,
        links={TRAINED.version: 700},
    )
    assert "trained" in rows["model"] and "not trained" not in rows["model"]
    assert "/srv/model.json" in rows["model"]
    assert "next step" not in rows


def test_a_resolver_on_another_model_is_told_to_restart() -> None:
    rows = _rows(model=TRAINED, path=Path("m.json"))
    assert (
        SHIPPED.version in rows["resolver runs"] and "restart the resolver" in rows["resolver runs"]
    )
    assert rows["next step"].startswith("restart the resolver")


def test_links_scored_by_an_older_model_ask_for_a_relink() -> None:
    rows = _rows(
        model=TRAINED,
        path=Path("m.json"),
        running=TRAINED.version,
        links={TRAINED.version: 10, SHIPPED.version: 690},
    )
    assert "690 by older models" in rows["links"] and "10 by this model" in rows["links"]
    assert rows["next step"].startswith("earlylink relink")


def test_a_relink_under_way_is_shown_with_its_progress() -> None:
    state = RelinkState(TRAINED.version, after="k", done=400)
    rows = _rows(
        model=TRAINED,
        path=Path("m.json"),
        running=TRAINED.version,
        links={TRAINED.version: 300, SHIPPED.version: 400},
        relink=state,
    )
    assert rows["relink"] == "under way: 400 of 1,000 active records done"
    assert "resumes" in rows["next step"]


def test_a_finished_relink_leaves_nothing_to_do() -> None:
    state = RelinkState(TRAINED.version, after="z", done=1_000, finished=True)
    rows = _rows(
        model=TRAINED,
        path=Path("m.json"),
        running=TRAINED.version,
        links={TRAINED.version: 700},
        relink=state,
    )
    assert rows["relink"] == "done with this model (1,000 records)"
    assert "next step" not in rows


def test_a_store_that_outgrew_the_model_says_so() -> None:
    rows = _rows(model=replace(SHIPPED, prior=1 / 100), active=1_000)
    assert "1,000" in rows["active person records"] and "100" in rows["active person records"]
    assert "EARLYLINK_PROCESSOR_EXPECTED_RECORDS" in rows["warning"]


def test_an_empty_store_has_no_links_and_no_next_step() -> None:
    rows = _rows(running=None, active=0, links={})
    assert rows["resolver runs"].startswith("none yet")
    assert rows["links"] == "none yet"
    assert "next step" not in rows


def test_links_are_counted_against_the_model_the_resolver_runs() -> None:
    store = Stored("b", None, 10, {"a": 7, "b": 3, "c": 1})
    assert by_running(store) == (3, 11)
    assert by_running(Stored(None, None, 0, {})) == (0, 0)
    assert by_running(Stored(None, None, 5, {"a": 2})) == (0, 2)  # never ran here: none are its
