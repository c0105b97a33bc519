"""``earlylink evaluate --misses`` says when it scores with another model than the resolver
runs (``earlylink.evaluation.model_note``): its causes and weights would not be the store's."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg

from earlylink.evaluation import model_note
from stream_processors.resolve.model import configured_model
from stream_processors.resolve_agent import MODEL_STATE


def _record(dsn: str, version: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO resolver_state (name, value) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (MODEL_STATE, version),
        )


def test_a_model_other_than_the_resolvers_is_named(isolated: Any) -> None:
    settings = isolated()
    assert model_note(settings) is None  # no resolver has run: nothing to compare
    mine = configured_model(settings)
    _record(settings.database_dsn, mine.version)
    assert model_note(settings) is None
    other = replace(mine, prior=mine.prior / 3).version
    _record(settings.database_dsn, other)
    note = model_note(settings)
    assert note is not None and other in note and mine.version in note
    assert "EARLYLINK_PROCESSOR_EXPECTED_RECORDS" in note
