"""The demo sizes the shipped model for the borough it streams (``earlylink.demo``)."""

from __future__ import annotations

from pathlib import Path

from core.settings import ProcessorSettings, Settings
from earlylink.demo import EXPECTED_RECORDS, sized_for
from stream_processors.resolve.model import configured_model


def test_the_shipped_model_is_sized_for_the_borough(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(EXPECTED_RECORDS, raising=False)
    monkeypatch.delenv("EARLYLINK_PROCESSOR_MODEL_PATH", raising=False)
    env = sized_for(Settings(), 127_958)
    assert env == {EXPECTED_RECORDS: "127958"}
    monkeypatch.setenv(EXPECTED_RECORDS, env[EXPECTED_RECORDS])  # as the processors read it
    model = configured_model(Settings())
    assert model.live_records == 127_958  # the prior, and what a name's count is a share of


def test_a_size_or_model_the_operator_set_is_kept(tmp_path: Path) -> None:
    assert sized_for(Settings(processor=ProcessorSettings(expected_records=9_000)), 127_958) == {}
    model = ProcessorSettings(model_path=tmp_path / "model.json")
    assert sized_for(Settings(processor=model), 127_958) == {}
