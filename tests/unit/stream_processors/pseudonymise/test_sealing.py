"""Sealed dead letters: nothing readable without the day's data key, the key folder alone opens
nothing, a moved or altered letter is refused, and shredding a day makes its letters gone."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.sealing import (
    DataKeys,
    SealError,
    data_keys,
    is_sealed,
    open_sealed,
    seal,
    sealed_day,
)

RING = Keyring({1: b"m" * 32}, 1)
RAW = b"\x00\x00\x00\x00\x05 Zqcanaryanna Vexcanarysson 9990001006 SE11 9QZ"
KEY = b"canary-service|rec-1"


def test_a_sealed_letter_holds_nothing_in_clear_and_opens_with_its_day(tmp_path: Path) -> None:
    keys = data_keys(tmp_path, RING)
    sealed = seal(keys, KEY, RAW, "raw:0:7", "2026-12-01")
    assert is_sealed(sealed) and sealed_day(sealed) == "2026-12-01"
    for part in (b"Zqcanaryanna", b"9990001006", b"SE11", b"rec-1"):
        assert part not in sealed
    opened = open_sealed(keys, sealed, "raw:0:7")
    assert (opened.key, opened.value, opened.day) == (KEY, RAW, "2026-12-01")
    files = list(keys.folder.iterdir())
    assert [f.name for f in files] == ["2026-12-01.key"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert b"m" * 8 not in files[0].read_bytes()


def test_a_moved_or_altered_letter_is_refused(tmp_path: Path) -> None:
    keys = data_keys(tmp_path, RING)
    sealed = seal(keys, None, RAW, "raw:0:7", "2026-12-01")
    with pytest.raises(SealError, match="altered or moved"):
        open_sealed(keys, sealed, "raw:0:8")
    with pytest.raises(SealError, match="altered or moved"):
        open_sealed(keys, sealed[:-1] + bytes([sealed[-1] ^ 1]), "raw:0:7")
    assert open_sealed(keys, sealed, "raw:0:7").key is None


def test_the_key_folder_opens_nothing_with_another_master(tmp_path: Path) -> None:
    keys = data_keys(tmp_path, RING)
    sealed = seal(keys, KEY, RAW, "raw:0:1", "2026-12-01")
    other = Keyring({1: b"o" * 32}, 1)
    assert data_keys(tmp_path, other).folder != keys.folder  # never mixed
    thief = DataKeys(keys.folder, other.deadletter_kek())  # the folder, not the master
    with pytest.raises(ConfigurationError, match="does not open"):
        open_sealed(thief, sealed, "raw:0:1")


def test_shredding_a_day_makes_its_letters_gone_for_good(tmp_path: Path) -> None:
    keys = data_keys(tmp_path, RING)
    old = seal(keys, KEY, RAW, "raw:0:1", "2026-11-20")
    new = seal(keys, KEY, RAW, "raw:0:2", "2026-12-01")
    assert keys.shred(dt.date(2026, 11, 25)) == ["2026-11-20"]
    again = data_keys(tmp_path, RING)  # a fresh process: nothing cached
    with pytest.raises(SealError, match="shredded"):
        open_sealed(again, old, "raw:0:1")
    assert open_sealed(again, new, "raw:0:2").value == RAW
