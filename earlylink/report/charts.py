"""The report's charts, drawn by matplotlib as SVG text to inline in the page. Each draws only
published figures: a hidden (suppressed) cell is left blank or hatched grey, never drawn to
scale, and the caller's note says how many are hidden."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from earlylink.report.period import quarter_label

INK, ACCENT, SOFT, HIDDEN = "#1f3b4d", "#d9792b", "#8fb3c9", "#d0d0d0"
plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, searchable, selectable
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": "#888888",
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def to_svg(fig: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element (no XML prologue), its ids salted by ``name`` so that
    several charts in one page never share a clip path."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.hashsalt": f"earlylink-{name}"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def empty(name: str, message: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#555555")
    return to_svg(fig, name)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def headline(rows: Sequence[dict[str, Any]]) -> str:
    """Records a quarterly upload would count against the unique persons behind them."""
    by = {r["measure"]: r for r in rows}
    spans = [("in_period", "in the period"), ("to_date", "to date")]
    fig, ax = plt.subplots(figsize=(6, 2.4))
    labels, records, persons = [], [], []
    for key, label in spans:
        labels.append(label)
        records.append(_number(by.get("records", {}).get(key)))
        persons.append(_number(by.get("persons", {}).get(key)))
    ys = range(len(labels))
    ax.barh([y + 0.2 for y in ys], records, height=0.38, color=SOFT, label="source records")
    ax.barh([y - 0.2 for y in ys], persons, height=0.38, color=INK, label="unique persons")
    ax.set_yticks(list(ys), labels)
    ax.invert_yaxis()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    ax.set_xlabel("count (double counting removed in the dark bars)")
    return to_svg(fig, "headline")


def heatmap(
    name: str,
    rows: list[str],
    columns: list[str],
    values: dict[tuple[str, str], float | None],
    label: str,
    percent: bool = False,
) -> str:
    """A grid of published values; hidden cells hatched grey, absent cells blank."""
    if not rows or not columns:
        return empty(name, "no published figures")
    height = max(2.0, 0.24 * len(rows) + 1.0)
    fig, ax = plt.subplots(figsize=(min(11, 1.6 + 0.45 * len(columns)), height))
    grid = [[_cell(values, r, c) for c in columns] for r in rows]
    shown = [v for row in grid for v in row if not math.isnan(v) and v >= 0]
    image = ax.imshow(
        [[v if v >= 0 else math.nan for v in row] for row in grid],
        aspect="auto",
        cmap="Blues",
        vmin=0,
        vmax=max(shown) if shown else 1,
    )
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value == -1:  # hidden: a grey hatched square, no number
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, facecolor=HIDDEN, hatch="///", edgecolor="white"
                    )
                )
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.spines[:].set_visible(False)
    bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    bar.set_label(label + (" (share)" if percent else ""))
    return to_svg(fig, name)


def _cell(values: dict[tuple[str, str], float | None], row: str, column: str) -> float:
    """-1 for a hidden cell, NaN for one with no data, else the value."""
    if (row, column) not in values:
        return math.nan
    value = values[(row, column)]
    return -1.0 if value is None else float(value)


def bars(name: str, labels: list[str], values: list[float], xlabel: str) -> str:
    """Horizontal bars, largest first (only published values are passed in)."""
    if not labels:
        return empty(name, "no published figures")
    fig, ax = plt.subplots(figsize=(6.5, max(1.8, 0.22 * len(labels) + 0.8)))
    ax.barh(range(len(labels)), values, color=INK)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    return to_svg(fig, name)


def stacked(name: str, labels: list[str], parts: dict[str, list[float]], xlabel: str) -> str:
    """Horizontal stacked bars (e.g. new and returning persons per service)."""
    if not labels:
        return empty(name, "no published figures")
    fig, ax = plt.subplots(figsize=(6.5, max(1.8, 0.24 * len(labels) + 0.9)))
    left = [0.0] * len(labels)
    for (part, values), colour in zip(parts.items(), (INK, ACCENT, SOFT), strict=False):
        ax.barh(range(len(labels)), values, left=left, color=colour, label=part)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(loc="lower right", frameon=False)
    return to_svg(fig, name)


def upset(name: str, combinations: list[tuple[list[str], float]]) -> str:
    """An UpSet-style chart: a bar per combination of services, over a matrix of dots saying
    which services make it up."""
    if not combinations:
        return empty(name, "no published combinations")
    services = sorted({s for combo, _ in combinations for s in combo})
    fig, (top, matrix) = plt.subplots(
        2,
        1,
        figsize=(min(11, 1.5 + 0.42 * len(combinations)), 2.6 + 0.2 * len(services)),
        gridspec_kw={"height_ratios": [2, max(1, len(services) * 0.25)]},
        sharex=True,
    )
    xs = range(len(combinations))
    top.bar(xs, [n for _, n in combinations], color=INK)
    top.set_ylabel("families")
    _dots(matrix, services, [combo for combo, _ in combinations])
    return to_svg(fig, name)


def _dots(ax: Axes, services: list[str], combos: list[list[str]]) -> None:
    for x, combo in enumerate(combos):
        ys = sorted(services.index(s) for s in combo)
        ax.scatter([x] * len(services), range(len(services)), s=18, color="#e3e3e3")
        ax.scatter([x] * len(ys), ys, s=22, color=INK, zorder=3)
        if len(ys) > 1:
            ax.plot([x, x], [ys[0], ys[-1]], color=INK, linewidth=1.5)
    ax.set_yticks(range(len(services)), services)
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.spines[:].set_visible(False)


def lines(
    name: str, series: dict[str, list[tuple[dt.date, float]]], ylabel: str, note: str = ""
) -> str:
    """One line per series over quarters (published points only; gaps where hidden)."""
    if not any(series.values()):
        return empty(name, "no published figures")
    fig, ax = plt.subplots(figsize=(7, 3))
    quarters = sorted({q for points in series.values() for q, _ in points})
    index = {q: i for i, q in enumerate(quarters)}
    for label, points in sorted(series.items()):
        ys = [math.nan] * len(quarters)  # a hidden quarter breaks the line, never bridges it
        for quarter, value in points:
            ys[index[quarter]] = value
        ax.plot(range(len(quarters)), ys, marker="o", label=label)
    ax.set_xticks(range(len(quarters)), [quarter_label(q) for q in quarters], rotation=45)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=8, loc="best")
    if note:
        ax.set_title(note, fontsize=8, color="#555555", loc="left")
    return to_svg(fig, name)
