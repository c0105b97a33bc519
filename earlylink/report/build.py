"""Making the report: the period, the views' tables (as the analyst role), the page, the CSVs."""

from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

from earlylink.report.page import hidden_in, render
from earlylink.report.period import Period, parse_period
from earlylink.report.sections import all_sections
from sink.report import Table, latest_quarter, read_report

TITLE = "Early years partnership report"


@dataclass(frozen=True)
class Report:
    html: Path
    csvs: list[Path]
    period: Period
    threshold: int
    hidden: int
    seconds: float


def build_report(
    dsn: str,
    out: Path,
    csv_dir: Path | None = None,
    period: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Report:
    """Write the report for the period to ``out`` (and each table to ``csv_dir``)."""
    began = time.monotonic()
    latest = latest_quarter(dsn) if period is None and start is None and end is None else None
    chosen = parse_period(period, start, end, latest)
    threshold, tables = read_report(dsn, chosen.start, chosen.end)
    page = render(TITLE, chosen, threshold, all_sections(chosen, tables))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    written = write_csvs(csv_dir, tables) if csv_dir is not None else []
    hidden = sum(hidden_in(t) for t in tables.values())
    return Report(out, written, chosen, threshold, hidden, time.monotonic() - began)


def write_csvs(folder: Path, tables: dict[str, Table]) -> list[Path]:
    """One CSV per table, exactly as the view gave it (a hidden figure is an empty cell)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows(["" if v is None else v for v in row] for row in table.rows)
        paths.append(path)
    return paths
