"""The report's sections (tables, charts, notes) from the views' tables, and the page itself.

Every figure shown is a value a view published; a NULL there is a hidden cell here (shown as a
dash, never as a number), and each table and chart says how many it hides."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from earlylink.report.period import Period, quarter_label
from sink.report import Table

# the columns of each table that hold figures (a NULL in one is a suppressed cell)
FIGURES: dict[str, tuple[str, ...]] = {
    "headline": ("in_period", "to_date"),
    "unique_beneficiaries": ("source_records", "persons", "children", "families"),
    "new_and_returning": ("new_persons", "returning_persons"),
    "reach_by_area": ("persons", "children", "families"),
    "service_combinations": ("families",),
    "journey_steps": ("persons",),
    "outcome_trends": ("measures", "mean_score"),
    "outcomes_by_service": ("measures", "mean_score"),
    "data_quality_league": (
        "received",
        "median_days_to_submit",
        "person_records",
        "nhs_number_coverage",
        "given_names_complete",
        "family_name_complete",
        "date_of_birth_complete",
        "postcode_complete",
        "address_complete",
        "locality_complete",
        "rejected",
        "field_issues",
        "consent_suppressed",
        "share_linked_to_other_sources",
    ),
    "rejections_by_reason": ("messages",),
}
COMPLETENESS = (
    "nhs_number_coverage",
    "given_names_complete",
    "family_name_complete",
    "date_of_birth_complete",
    "postcode_complete",
    "address_complete",
    "locality_complete",
)


@dataclass
class Cell:
    shown: str
    column: str
    value: Any = None
    number: bool = False
    hidden: bool = False


@dataclass
class HtmlTable:
    name: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    hidden: int = 0


@dataclass
class Chart:
    name: str
    svg: str
    caption: str


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    caveat: str = ""
    tiles: list[dict[str, Any]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[HtmlTable] = field(default_factory=list)


def show(value: Any) -> str:
    if isinstance(value, dt.date):
        return (
            quarter_label(value) if value.day == 1 and value.month in (1, 4, 7, 10) else str(value)
        )
    if isinstance(value, Decimal | float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def html_table(table: Table, caption: str, limit: int | None = None) -> HtmlTable:
    """A view's table as cells: figures right-aligned with their exact value, NULL figures
    hidden; ``limit`` keeps the first rows (the caption should say so)."""
    figures = set(FIGURES.get(table.name, ()))
    rows, hidden = [], 0
    for row in table.rows[:limit]:
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            if column in figures and value is None:
                hidden += 1
                cells.append(Cell("", column, hidden=True))
            elif column in figures:
                cells.append(Cell(show(value), column, value, number=True))
            else:
                cells.append(Cell(show(value), column))
        rows.append(cells)
    return HtmlTable(
        table.name, caption, [c.replace("_", " ") for c in table.columns], rows, hidden
    )


def hidden_in(table: Table) -> int:
    figures = FIGURES.get(table.name, ())
    return sum(row[table.columns.index(c)] is None for row in table.rows for c in figures)


def render(title: str, period: Period, threshold: int, sections: list[Section]) -> str:
    """The whole page: self-contained, nothing fetched when it opens."""
    env = Environment(autoescape=select_autoescape(default=True), undefined=StrictUndefined)
    template = env.from_string(
        resources.files("earlylink.report").joinpath("page.html.j2").read_text(encoding="utf-8")
    )
    legend = (
        f"Small numbers are hidden: a dash (or a grey hatched cell in a chart) is a count below"
        f" {threshold}, or one hidden so that a total cannot give a small one back."
    )
    return template.render(
        title=title,
        period=period.label,
        start=period.start,
        end=period.end,
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        hidden_legend=legend,
        sections=sections,
    )


def tiles(headline: Table) -> list[dict[str, Any]]:
    labels = {
        "children": "children reached",
        "parents_carers": "parents and carers",
        "families": "families",
        "records": "source records (what uploads counted)",
    }
    out = []
    for record in headline.records():
        if record["measure"] in labels:
            value = record["in_period"]
            out.append(
                {
                    "label": labels[record["measure"]] + " in the period",
                    "value": value,
                    "shown": "\u2014" if value is None else show(value),
                }
            )
    return out


def chart(name: str, svg: str, caption: str) -> Chart:
    return Chart(name, svg, caption)
