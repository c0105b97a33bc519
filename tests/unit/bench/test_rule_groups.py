"""``bench.common.keeping_rules``: the shipped model with only some of its blocking rules, for
measuring what a rule group costs and finds (``bench.against --keep-rules``,
``bench.linkage_offline --keep-rules``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.common import keeping_rules, written_model
from core.errors import ConfigurationError
from stream_processors.resolve.model import load_model


def test_only_the_named_rules_stay_in_the_shipped_order() -> None:
    shipped = load_model()
    kept = keeping_rules(shipped, ["postcode", "nhs", "dob"])
    assert [r.name for r in kept.blocking] == ["nhs", "dob", "postcode"]
    assert kept.comparisons == shipped.comparisons
    assert kept.version != shipped.version  # another configuration is another model


def test_an_unknown_rule_name_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(ConfigurationError, match=r"no blocking rule named 'dobb'.*dob_family"):
        keeping_rules(load_model(), ["dob", "dobb"])


def test_the_written_file_loads_as_the_same_model(tmp_path: Path) -> None:
    kept = keeping_rules(load_model(), ["nhs", "names"])
    path = written_model(kept, tmp_path)
    again = load_model(path)
    assert again.version == kept.version
    assert [r.name for r in again.blocking] == ["nhs", "names"]
