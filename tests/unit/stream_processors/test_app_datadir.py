"""A processor keeps faust's data folder under the state directory, never where it was started."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import PathSettings, Settings
from stream_processors.app import make_app, remove_data_folders


def test_the_data_folder_is_under_the_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started_in = tmp_path / "elsewhere"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    settings = Settings(paths=PathSettings(state_dir=tmp_path / "state"))
    app = make_app(settings, "bench-abc123-resolve", "resolve")
    folder = Path(app.conf.datadir)
    assert folder == tmp_path / "state" / "processors" / "bench-abc123-resolve"
    assert folder.parent.is_dir()  # faust makes the folder itself, but not its parents
    assert not os.listdir(started_in)


def test_a_runs_data_folders_are_removed_and_no_others(tmp_path: Path) -> None:
    settings = Settings(paths=PathSettings(state_dir=tmp_path))
    folders = settings.processor_dir
    for name in (settings.kafka.group("pseudonymise"), settings.kafka.group("resolve"), "other"):
        (folders / name).mkdir(parents=True)
    (folders / "resolve.log").write_text("kept")
    remove_data_folders(settings)
    assert sorted(p.name for p in folders.iterdir()) == ["other", "resolve.log"]
