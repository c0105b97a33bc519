"""The ground truth file and the generator's realism figures."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path

from producers.synthetic.timeline import BoroughGenerator, TruthRow

REALISM_FLAGS = {
    "typo_given": "given name typo",
    "typo_family": "family name typo",
    "nickname": "nickname used",
    "strip_accents": "accents dropped",
    "family_name_first": "names in swapped fields",
    "first_given_only": "only first given name",
    "swap_day_month": "day/month swapped",
    "missing_dob": "date of birth missing",
    "missing_postcode": "postcode missing",
    "invalid_nhs": "invalid NHS number",
    "renamed_baby": "baby renamed after birth",
    "moved": "address changed",
    "surname_changed": "surname changed",
    "opted_out": "opted out at registration",
    "withdrew_consent": "consent withdrawn later",
    "retracted": "record retracted",
}


def write_truth(generator: BoroughGenerator, path: Path) -> int:
    """Write one row per source record; return the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(TruthRow)]
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in generator.truth():
            writer.writerow(asdict(row))
            count += 1
    return count


def read_truth(path: Path) -> list[TruthRow]:
    """Rows of a truth file: the borough's, or any CSV with source_system, record_id and
    person_id (such as ``python -m producers.febrl truth 1``)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            TruthRow(
                row["source_system"],
                row["record_id"],
                row["person_id"],
                row.get("family_id") or "",
                row.get("role") or "",
                row.get("twin_of") or None,
                row.get("flags") or "",
                row.get("mother_id") or None,
            )
            for row in csv.DictReader(handle)
        ]


def realism(generator: BoroughGenerator) -> list[tuple[str, str]]:
    """(figure, value) pairs describing how messy the generated data is."""
    rows = list(generator.truth())
    flags: Counter[str] = Counter(f for r in rows for f in r.flags.split(";") if f)
    total = len(rows)
    people = [p for f in generator.families for p in f.members]
    children = [p for p in people if p.role.value == "CHILD"]
    no_nhs = sum(1 for plan in generator.plans if not plan.noise.has_nhs)
    figures = [
        ("families", f"{len(generator.families):,}"),
        ("people (children)", f"{len(people):,} ({len(children):,})"),
        ("twin pairs", f"{sum(1 for c in children if c.twin_of) // 2:,}"),
        ("source systems", f"{len({r.source_system for r in rows})}"),
        ("person records", f"{total:,}"),
        ("records per person", f"{total / max(len(people), 1):.2f}"),
        ("records without NHS number", f"{no_nhs / max(total, 1):.1%}"),
    ]
    for flag, label in REALISM_FLAGS.items():
        figures.append((label, f"{flags[flag] / max(total, 1):.2%} ({flags[flag]:,})"))
    return figures
