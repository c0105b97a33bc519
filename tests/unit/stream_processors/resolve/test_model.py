"""The Fellegi–Sunter model: weights, term frequencies, versions."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from earlylink.errors import ConfigurationError
from stream_processors.resolve.model import Model, load_model


def test_default_model_loads_with_a_version() -> None:
    model = load_model()
    assert len(model.version) == 12
    assert model.weight("nhs", "exact") > 15
    assert model.weight("dob", "else") < 0
    assert model.weight("given", "null") == 0.0


def test_term_frequency_adjusts_exact_name_agreement() -> None:
    model = load_model()
    common, rare = bytes.fromhex("aa" * 16), bytes.fromhex("bb" * 16)
    tuned = Model(
        model.probabilities,
        model.prior,
        model.link_threshold,
        {"fname": {common.hex(): 0.05, rare.hex(): 0.00002}},
    )
    assert tuned.weight("family", "exact", common) < model.weight("family", "exact")
    assert tuned.weight("family", "exact", rare) > model.weight("family", "exact")
    assert tuned.weight("family", "exact", common) == pytest.approx(
        math.log2(model.probabilities["family"]["exact"][0] / 0.05)
    )


def test_versions_follow_content(tmp_path: Path) -> None:
    model = load_model()
    path = tmp_path / "m.json"
    model.save(path)
    assert load_model(path).version == model.version
    changed = Model(model.probabilities, model.prior, model.link_threshold + 1)
    assert changed.version != model.version


def test_bad_model_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"prior": 0.1}')
    with pytest.raises(ConfigurationError, match="not a valid model"):
        load_model(path)


def test_no_level_of_the_default_model_weighs_more_than_exact_agreement() -> None:
    from stream_processors.resolve.comparisons import COMPARISONS

    model = load_model()
    for comparison in COMPARISONS:
        exact = model.weight(comparison.name, comparison.levels[0].name)
        for level in comparison.levels[1:]:
            assert model.weight(comparison.name, level.name) <= exact, (comparison.name, level)


def test_model_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text("{}")
    path.chmod(0o644)
    load_model().save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_model(path).version == load_model().version
