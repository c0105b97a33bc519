"""The report's page from tables: hidden figures are dashes (never numbers), charts draw only
published values, and the page fetches nothing when it opens."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from earlylink.report import charts
from earlylink.report.page import hidden_in, html_table, render, show
from earlylink.report.period import Period
from earlylink.report.sections import all_sections
from sink.report import VIEWS, Table

Q1 = dt.date(2025, 1, 1)


def _tables() -> dict[str, Table]:
    """Every table the report reads, small: a few published figures and some hidden ones."""
    columns = {
        "service_combinations": ["services", "service_count", "families"],
        "journey_steps": ["from_service", "to_service", "persons"],
        "outcome_trends": ["tool_code", "domain", "quarter", "measures", "mean_score"],
        "outcomes_by_service": ["tool_code", "service_code", "measures", "mean_score"],
        "rejections_by_reason": ["source_system", "kind", "code", "messages"],
    }
    empty = {name: Table(name, columns.get(name, ["x"]), []) for name in VIEWS}
    return {
        **empty,
        "headline": Table(
            "headline",
            ["measure", "in_period", "to_date"],
            [
                ("children", 40, 90),
                ("parents_carers", 55, 120),
                ("families", 60, 130),
                ("persons", 95, 210),
                ("records", 310, 700),
            ],
        ),
        "unique_beneficiaries": Table(
            "unique_beneficiaries",
            [
                "service_code",
                "quarter",
                "source_records",
                "persons",
                "children",
                "families",
                "suppressed",
            ],
            [("hv", Q1, 80, 40, 20, 30, False), ("cc", Q1, None, None, None, None, True)],
        ),
        "new_and_returning": Table(
            "new_and_returning",
            ["service_code", "quarter", "new_persons", "returning_persons", "suppressed"],
            [("hv", Q1, 25, 15, False), ("cc", Q1, None, None, True)],
        ),
        "reach_by_area": Table(
            "reach_by_area",
            ["area", "persons", "children", "families"],
            [("SE1", 50, 20, 30), ("SE2", None, None, None)],
        ),
        "data_quality_league": Table(
            "data_quality_league",
            [
                "source_system",
                "nhs_number_coverage",
                "given_names_complete",
                "family_name_complete",
                "date_of_birth_complete",
                "postcode_complete",
                "address_complete",
                "locality_complete",
                "rejected",
            ],
            [("hv", Decimal("0.9"), 1, 1, Decimal("0.95"), 1, 1, Decimal("0.4"), None)],
        ),
    }


def test_hidden_figures_are_dashes_and_counted() -> None:
    table = _tables()["reach_by_area"]
    cells = html_table(table, "reach")
    assert cells.hidden == 3 == hidden_in(table)
    hidden = [c for row in cells.rows for c in row if c.hidden]
    assert len(hidden) == 3 and all(c.shown == "" and c.value is None for c in hidden)
    assert [c.shown for c in cells.rows[0]] == ["SE1", "50", "20", "30"]


def test_numbers_and_quarters_are_shown_plainly() -> None:
    assert (show(12345), show(Decimal("0.950")), show(Q1), show(None)) == (
        "12,345",
        "0.95",
        "2025Q1",
        "",
    )


def test_the_page_is_self_contained_and_shows_no_hidden_number() -> None:
    period = Period(Q1, dt.date(2025, 3, 31))
    page = render("t", period, 10, all_sections(period, _tables()))
    assert "<script" not in page and "http://" not in page.split("<svg", 1)[0]
    assert "default-src 'none'" in page
    assert page.count('<figure class="chart"') == 9
    assert page.count('<td class="hidden"') == 3 + 4 + 2 + 1  # reach, services, new/ret., DQ


def test_a_heatmap_hatches_hidden_cells_and_draws_no_number_for_them() -> None:
    values = {("a", "Q1"): 40.0, ("a", "Q2"): None, ("b", "Q1"): 25.0}
    svg = charts.heatmap("t", ["a", "b"], ["Q1", "Q2"], values, "persons")
    assert svg.startswith("<svg") and 'id="patch_' in svg
    assert svg.count("<pattern") == 1  # the hatching of the one hidden cell
    assert charts.empty("e", "nothing here").count("nothing here") == 1
