"""What ``earlylink status`` says of linkage, and what the operator should do next.

A new deployment starts on the shipped model, which is not trained on its population. The
path from there is ``earlylink train``, then ``EARLYLINK_PROCESSOR_MODEL_PATH`` pointed at the
file it writes, the resolver restarted, then ``earlylink relink`` (docs/resolution.md). Each
step leaves a trace in the store: the model the resolver runs (``MODEL_STATE``), the model each
link was scored by (``match_edges.model_version``) and how far a relink got
(``RELINK_STATE``). These rows read those traces against the configured model and name the
next step, so an operator does not have to remember where the deployment is on that path.
Versions and counts only: nothing here is a person's value or token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from earlylink.relink import RelinkState
from sink.linkage_state import stored_linkage
from stream_processors.resolve.model import Model
from stream_processors.resolve_agent import MODEL_STATE, RELINK_STATE


@dataclass(frozen=True)
class Stored:
    """The store's traces of linkage."""

    running: str | None  # the model the resolver last ran here (None: it never has)
    relink: RelinkState | None  # the last relink's progress
    active: int  # active person records
    links: dict[str, int]  # model version -> links scored by it


def stored(dsn: str) -> Stored:
    """The traces, read from the store at ``dsn``."""
    states, active, links = stored_linkage(dsn, [MODEL_STATE, RELINK_STATE])
    return Stored(
        states.get(MODEL_STATE), RelinkState.parse(states.get(RELINK_STATE)), active, links
    )


def by_running(store: Stored) -> tuple[int, int]:
    """(links scored by the model the resolver last ran here, all links): the rest were
    scored by older models, and a graph's figures describe them until ``earlylink relink``."""
    current = store.links.get(store.running, 0) if store.running is not None else 0
    return current, sum(store.links.values())


def trained(model: Model) -> bool:
    """Whether the model was trained on a store: ``earlylink train`` writes its own term
    frequencies, which the shipped model takes from the store instead."""
    return not model.counts_terms


def linkage_rows(model: Model, path: Path | None, store: Stored) -> list[tuple[str, str]]:
    """(label, text) rows for the configured ``model`` (read from ``path``; None: shipped)."""
    this = model.version
    older = sum(n for version, n in store.links.items() if version != this)
    rows = [
        ("model", _model_text(model, path)),
        ("resolver runs", _running_text(store.running, this)),
        ("links", _links_text(store.links.get(this, 0), older)),
        ("relink", _relink_text(store.relink, this, store.active)),
        ("active person records", f"{store.active:,}; the model expects {model.live_records:,}"),
    ]
    warning = model.outgrown(store.active)
    if warning:
        rows.append(("warning", warning))
    step = _next_step(model, store, older)
    if step:
        rows.append(("next step", step))
    return rows


def _model_text(model: Model, path: Path | None) -> str:
    if path is None:
        return f"{model.version}: the shipped model, not trained on this store"
    if trained(model):
        return f"{model.version}: trained, from {path}"
    return f"{model.version}: from {path}, not trained on this store"


def _running_text(running: str | None, this: str) -> str:
    if running is None:
        return "none yet: the resolver has not linked this store"
    if running == this:
        return "the configured model"
    return f"{running}: restart the resolver to take {this}"


def _links_text(current: int, older: int) -> str:
    if not current and not older:
        return "none yet"
    return f"{current:,} by this model" + (f", {older:,} by older models" if older else "")


def _relink_text(state: RelinkState | None, this: str, active: int) -> str:
    if state is None or state.model != this:
        return "not run with this model"
    if state.finished:
        return f"done with this model ({state.done:,} records)"
    return f"under way: {state.done:,} of {active:,} active records done"


def _next_step(model: Model, store: Stored, older: int) -> str | None:
    this = model.version
    if store.running is not None and store.running != this:
        return f"restart the resolver, so that it runs model {this}; then earlylink relink"
    relink = store.relink
    if relink is not None and relink.model == this and not relink.finished:
        return "earlylink relink again: it resumes where it stopped"
    if older:
        return f"earlylink relink: {older:,} links were scored by older models"
    if not trained(model) and store.active:
        return (
            "train on this store: earlylink train, point EARLYLINK_PROCESSOR_MODEL_PATH at the"
            " file it writes, restart the resolver, then earlylink relink (docs/resolution.md)"
        )
    return None
