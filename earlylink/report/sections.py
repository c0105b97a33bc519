"""The seven sections of the partnership report, each from the views' tables: what it says,
its charts (published figures only) and its tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from earlylink.report import charts
from earlylink.report.page import (
    COMPLETENESS,
    Chart,
    Section,
    hidden_in,
    html_table,
    tiles,
)
from earlylink.report.period import Period, quarter_label
from sink.report import Table

TOP = 15  # combinations, districts and steps drawn


def _hidden_note(table: Table) -> str:
    hidden = hidden_in(table)
    return f" {hidden} hidden figure{'s' if hidden != 1 else ''} not drawn." if hidden else ""


def _published(table: Table, column: str) -> Table:
    """The rows whose ``column`` was published (for lists where a hidden row says nothing)."""
    index = table.columns.index(column)
    return Table(table.name, table.columns, [r for r in table.rows if r[index] is not None])


def headline(tables: dict[str, Table]) -> Section:
    table = tables["headline"]
    return Section(
        "headline",
        "Headline: who the partnership reached",
        "Unique children, parents and carers and families with a contact in the period, and to"
        " its end. Records are what quarterly uploads counted; persons are the people behind"
        " them once records about the same person are linked (the double counting removed).",
        tiles=tiles(table),
        charts=[
            Chart(
                "headline",
                charts.headline(table.records()),
                "Source records against unique persons." + _hidden_note(table),
            )
        ],
        tables=[html_table(table, "Reach in the period and to date.")],
    )


def services(period: Period, tables: dict[str, Table]) -> Section:
    ub, nr = tables["unique_beneficiaries"], tables["new_and_returning"]

    def trend(column: str) -> dict[tuple[str, str], Any]:
        return {(r["service_code"], quarter_label(r["quarter"])): r[column] for r in ub.records()}

    rows = sorted({r["service_code"] for r in ub.records()})
    columns = sorted({quarter_label(r["quarter"]) for r in ub.records()})
    last = period.quarters()[-1]
    in_last = [r for r in nr.records() if r["quarter"] == last and not r["suppressed"]]
    in_last.sort(key=lambda r: -(r["new_persons"] + r["returning_persons"]))
    in_period = Table(
        ub.name, ub.columns, [row for row in ub.rows if period.start <= row[1] <= period.end]
    )
    nr_period = Table(
        nr.name, nr.columns, [row for row in nr.rows if period.start <= row[1] <= period.end]
    )
    return Section(
        "services",
        "Each service: unique children and families per quarter",
        "Unique children and families each service reached per quarter (the trend), and in the"
        " period's last quarter how many persons were new to the service and how many returning.",
        charts=[
            Chart(
                "children-trend",
                charts.heatmap("children-trend", rows, columns, trend("children"), "children"),
                "Unique children per service and quarter; grey hatched cells are hidden.",
            ),
            Chart(
                "families-trend",
                charts.heatmap("families-trend", rows, columns, trend("families"), "families"),
                "Unique families per service and quarter; grey hatched cells are hidden.",
            ),
            Chart(
                "new-returning",
                charts.stacked(
                    "new-returning",
                    [r["service_code"] for r in in_last],
                    {
                        "new": [float(r["new_persons"]) for r in in_last],
                        "returning": [float(r["returning_persons"]) for r in in_last],
                    },
                    f"persons in {quarter_label(last)}",
                ),
                f"New and returning persons per service in {quarter_label(last)}; services whose"
                " figures are hidden are left out.",
            ),
        ],
        tables=[
            html_table(in_period, "Unique beneficiaries per service in the period."),
            html_table(nr_period, "New and returning persons per service in the period."),
        ],
    )


def reach(tables: dict[str, Table]) -> Section:
    table = tables["reach_by_area"]
    shown = sorted(
        (r for r in table.records() if r["persons"] is not None), key=lambda r: -r["persons"]
    )[:TOP]
    return Section(
        "reach",
        "Reach by postcode district",
        "Persons the partnership has reached, to date, by the postcode district of their latest"
        " record.",
        charts=[
            Chart(
                "reach",
                charts.bars(
                    "reach",
                    [r["area"] for r in shown],
                    [float(r["persons"]) for r in shown],
                    "persons reached",
                ),
                f"The {len(shown)} districts reaching most persons." + _hidden_note(table),
            )
        ],
        tables=[html_table(table, "Reach by district, to date.")],
    )


def combinations(tables: dict[str, Table]) -> Section:
    table = tables["service_combinations"]
    published = [r for r in table.records() if r["families"] is not None][:TOP]
    combos = [(r["services"].split(" + "), float(r["families"])) for r in published]
    return Section(
        "combinations",
        "Service combinations",
        "The combinations of services families use most (UpSet chart: each bar a combination,"
        " the dots beneath it the services in it).",
        charts=[
            Chart(
                "combinations",
                charts.upset("combinations", combos),
                f"The {len(combos)} commonest published combinations." + _hidden_note(table),
            )
        ],
        tables=[
            html_table(
                _published(table, "families"),
                f"The commonest combinations, to date (at most {2 * TOP});"
                f" {hidden_in(table)} combinations used by few families are not listed.",
                limit=2 * TOP,
            )
        ],
    )


def journeys(tables: dict[str, Table]) -> Section:
    table = tables["journey_steps"]
    records = table.records()
    rows = ["(start)", *sorted({r["from_service"] for r in records} - {"(start)"})]
    columns = sorted({r["to_service"] for r in records})
    values = {(r["from_service"], r["to_service"]): r["persons"] for r in records}
    steps = _published(table, "persons")
    steps = Table(steps.name, steps.columns, sorted(steps.rows, key=lambda row: -row[2]))
    return Section(
        "journeys",
        "Journeys: where families meet the partnership, and where they go next",
        "Each row is where persons were: '(start)' is the first service they used; each column"
        " the next service they took up. A cell counts the persons who made that step.",
        charts=[
            Chart(
                "journeys",
                charts.heatmap("journeys", rows, columns, values, "persons"),
                "Steps between services (from the row to the column); grey hatched cells are"
                " hidden.",
            )
        ],
        tables=[
            html_table(
                steps,
                f"The commonest steps (at most {2 * TOP}); {hidden_in(table)} steps made by few"
                " persons are not listed.",
                limit=2 * TOP,
            )
        ],
    )


def outcomes(tables: dict[str, Table]) -> Section:
    trends, beside = tables["outcome_trends"], tables["outcomes_by_service"]
    series: dict[str, list[tuple[dt.date, float]]] = defaultdict(list)
    for r in trends.records():
        if r["mean_score"] is not None:
            name = r["tool_code"] + (f" {r['domain']}" if r["domain"] else "")
            series[name].append((r["quarter"], float(r["mean_score"])))
    return Section(
        "outcomes",
        "Outcomes beside the services used",
        "The Shared Measurement System's measures over time, and the mean score of each tool"
        " among persons who had used each service before they were measured.",
        caveat="These figures show association, not effect: families choose services, and"
        " services are offered to families with particular needs. A difference between"
        " services is not evidence that a service caused it.",
        charts=[
            Chart(
                "outcomes",
                charts.lines("outcomes", dict(series), "mean score"),
                "Mean score per tool and quarter (published quarters only)." + _hidden_note(trends),
            )
        ],
        tables=[
            html_table(trends, "Measures and mean scores per tool and quarter."),
            html_table(beside, "Measures and mean scores per tool, by service used before."),
        ],
    )


def data_quality(tables: dict[str, Table]) -> Section:
    league, reasons = tables["data_quality_league"], tables["rejections_by_reason"]
    values: dict[tuple[str, str], Any] = {}
    for r in league.records():
        for column in COMPLETENESS:
            values[(r["source_system"], column.replace("_complete", ""))] = r[column]
    fields = [c.replace("_complete", "") for c in COMPLETENESS]
    sources = [r["source_system"] for r in league.records()]
    return Section(
        "data-quality",
        "Data quality per service",
        "What each service is held to account on: how soon it submits, how complete the fields"
        " that identify a person are, how often its records could be linked to another"
        " service's, and what was rejected or left out, and why.",
        charts=[
            Chart(
                "completeness",
                charts.heatmap("completeness", sources, fields, values, "complete", percent=True),
                "Share of each source's person records with each identifying field.",
            )
        ],
        tables=[
            html_table(league, "League table: one row per source system."),
            html_table(reasons, "Rejections and field issues by reason."),
        ],
    )


def all_sections(period: Period, tables: dict[str, Table]) -> list[Section]:
    return [
        headline(tables),
        services(period, tables),
        reach(tables),
        combinations(tables),
        journeys(tables),
        outcomes(tables),
        data_quality(tables),
    ]
