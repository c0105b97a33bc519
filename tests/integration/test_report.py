"""The partnership report on a resolved synthetic borough: every figure is the analytics view's
as the analyst role reads it, no figure below the threshold appears in the page or the CSVs,
and the page opens in headless chromium with every chart drawn."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.store import load_borough
from core.errors import ConfigurationError
from core.settings import Settings
from earlylink.report.build import Report, build_report
from earlylink.report.page import COMPLETENESS, FIGURES
from sink.report import VIEWS
from tests.conftest import run_chromium

# figures that are not counts of people or messages (means, shares, days): not thresholded
NOT_COUNTS = {"mean_score", "median_days_to_submit", "share_linked_to_other_sources", *COMPLETENESS}
CHARTS = 9


@pytest.fixture
def reported(fresh_settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Report, Path]]:
    load_borough(fresh_settings, 250)
    analyst = fresh_settings.as_login("analyst")
    csv_dir = tmp_path / "csv"
    made = build_report(analyst.database_dsn, tmp_path / "report.html", csv_dir)
    yield analyst, made, csv_dir


def _as_analyst(settings: Settings, statement: str, params: dict[str, Any]) -> list[list[str]]:
    """A view's rows read independently of the report, as the CSV writes them."""
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute(statement, params).fetchall()
    return [["" if v is None else str(v) for v in row] for row in rows]


class Cells(HTMLParser):
    """Per table of the page: each row's figure cells (value, or None when hidden)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self.current: str | None = None
        self.charts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.current = found.get("data-table")
            self.tables.setdefault(self.current or "", [])
        elif tag == "tr" and self.current is not None:
            self.tables[self.current].append([])
        elif tag == "td" and self.current is not None and self.tables[self.current]:
            if "data-column" in found:  # a figure: its value, None when hidden
                cell = (found["data-column"] or "", found.get("data-value"))
                self.tables[self.current][-1].append(cell)
        elif tag == "figure" and found.get("class") == "chart":
            self.charts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.current = None


def test_every_figure_is_the_views_and_none_is_small(
    reported: tuple[Settings, Report, Path],
) -> None:
    analyst, made, csv_dir = reported
    params = {"from": made.period.start, "to": made.period.end}
    threshold = made.threshold
    assert threshold == 10 and made.hidden > 0  # a 250-family borough has small cells
    statements = {
        "headline": "SELECT * FROM analytics.reach_in_period(%(from)s, %(to)s)",
        **VIEWS,
    }
    for name, statement in statements.items():
        with (csv_dir / f"{name}.csv").open(encoding="utf-8") as handle:
            written = list(csv.reader(handle))
        assert written[1:] == _as_analyst(analyst, statement, params), name
        columns = written[0]
        for column in set(FIGURES[name]) - NOT_COUNTS:
            index = columns.index(column)
            small = [r[index] for r in written[1:] if r[index] and float(r[index]) < threshold]
            assert not small, f"{name}.{column}: {small}"

    page = Cells()
    page.feed(made.html.read_text(encoding="utf-8"))
    assert page.charts == CHARTS
    shown = [
        (name, column, value)
        for name, rows in page.tables.items()
        for row in rows
        for column, value in row
        if value is not None and column not in NOT_COUNTS
    ]
    assert len(shown) > 50
    assert all(float(value) >= threshold for _, _, value in shown), [
        s for s in shown if float(s[2]) < threshold
    ]
    # the page's figures are the view's, cell for cell (tables shown whole)
    for name in ("headline", "reach_by_area", "data_quality_league", "rejections_by_reason"):
        view = _as_analyst(analyst, statements[name], params)
        columns = next(iter(csv.reader((csv_dir / f"{name}.csv").open(encoding="utf-8"))))
        figures = [columns.index(c) for c in columns if c in FIGURES[name]]
        expected = [[(columns[i], row[i] or None) for i in figures] for row in view]
        assert [r for r in page.tables[name] if r] == expected, name


def test_the_report_opens_in_chromium_with_every_chart_drawn(
    reported: tuple[Settings, Report, Path], tmp_path: Path
) -> None:
    _, made, _ = reported
    url = made.html.resolve().as_uri()
    dom = run_chromium(["--dump-dom", url], tmp_path / "profile-dom")
    figures = dom.split('<figure class="chart"')[1:]
    assert len(figures) == CHARTS
    for figure in figures:
        svg = figure[: figure.index("</figure>")]
        drawn = svg.count("<path") + svg.count("<use") + svg.count("<rect")
        assert "<svg" in svg and drawn >= 5, svg[:300]
    shot = tmp_path / "report.png"
    run_chromium(
        [f"--screenshot={shot}", "--window-size=1200,1800", url], tmp_path / "profile-shot"
    )
    from PIL import Image

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # charts drawn, not a blank page


def test_periods_are_whole_quarters(
    reported: tuple[Settings, Report, Path], tmp_path: Path
) -> None:
    analyst = reported[0]
    with pytest.raises(ConfigurationError, match="whole quarters"):
        build_report(
            analyst.database_dsn,
            tmp_path / "r.html",
            start=dt.date(2025, 1, 2),
            end=dt.date(2025, 3, 31),
        )
    yearly = build_report(analyst.database_dsn, tmp_path / "y.html", period="2025")
    assert (yearly.period.start, yearly.period.end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    # the view refuses other periods itself, whoever asks
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        _as_analyst(
            analyst,
            "SELECT * FROM analytics.reach_in_period(%(from)s, %(to)s)",
            {"from": dt.date(2025, 1, 1), "to": dt.date(2025, 1, 30)},
        )
