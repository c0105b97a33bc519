"""``earlylink dq``: every identifying field the ledger counts has a column label."""

from __future__ import annotations

from core.vocabulary import FIELDS
from earlylink.cli.quality_cmd import SHORT


def test_every_counted_field_has_a_short_name() -> None:
    assert set(SHORT) == set(FIELDS)
    assert len(set(SHORT.values())) == len(SHORT)
