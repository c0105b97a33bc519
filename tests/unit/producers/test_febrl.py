"""The FEBRL helper offers FEBRL1 and FEBRL2 only, and reads the true person from rec_id."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from producers.febrl import dataset_path, person_of, truth_rows


def test_only_febrl1_and_febrl2_are_offered() -> None:
    assert dataset_path(1).name == "dataset1.csv" and dataset_path(1).is_file()
    for number in (0, 5, 9):
        with pytest.raises(ConfigurationError, match="only FEBRL1 and FEBRL2"):
            dataset_path(number)


def test_the_true_person_is_the_number_in_rec_id() -> None:
    assert person_of("rec-12-org") == person_of(" rec-12-dup-3 ") == "12"
    rows = list(truth_rows(1))
    assert len(rows) == 1000 and len({r["person_id"] for r in rows}) == 500
