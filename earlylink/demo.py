"""The main job: a synthetic borough streamed through the whole pipeline, then a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from core.settings import Settings
from earlylink.database import prepare_database
from earlylink.evaluation import evaluate
from earlylink.linkage_status import by_running, stored
from earlylink.processors import (
    PROCESSORS,
    check_offsets,
    processor,
    running,
    stage_status,
    wait_caught_up,
)
from earlylink.topics import ensure_topics
from producers.synthetic.publish import PublishResult, publish_borough
from producers.synthetic.timeline import BoroughGenerator
from sink.analytics import query_view
from sink.quality import reconcile
from sink.summary import headline
from stream_processors.lag import lag_rows
from stream_processors.pseudonymise.keyfiles import ensure_key

EXPECTED_RECORDS = "EARLYLINK_PROCESSOR_EXPECTED_RECORDS"


def sized_for(settings: Settings, records: int) -> dict[str, str]:
    """The environment that sizes the shipped model for a store of ``records`` person records,
    as a deployment sets it: its prior one in that many, and the count a name's holders are a
    share of (``stream_processors.resolve.terms``). Left to the operator when the settings
    name a model file or a size. Left at the default 40,000, the programme-sized borough's
    128,000 records make every name look three times as common as it is and the prior three
    times too high: F1 0.9958 against 0.9979 sized (``bench.linkage_offline --families
    15000``)."""
    chosen = settings.processor
    if chosen.model_path is not None or chosen.expected_records is not None:
        return {}
    return {EXPECTED_RECORDS: str(records)}


@dataclass(frozen=True)
class DemoResult:
    published: PublishResult
    catch_up_s: float
    total_s: float
    latency_s: dict[str, float | None]  # raw event in Kafka -> linked in PostgreSQL
    lag_after: int
    sized: dict[str, str]  # the environment the processors were started with (``sized_for``)


def run_demo(settings: Settings, families: int, seed: int, console: Console) -> DemoResult:
    started = time.monotonic()
    ensure_topics(settings.kafka)
    prepare_database(settings)
    if ensure_key(settings):
        console.print(f"created a pseudonymisation key in {settings.key_dir}")
    raw = settings.kafka.topic("raw")
    for name in PROCESSORS:
        check_offsets(settings, name)  # else the published events would be skipped unread
    console.print(f"generating a borough of {families:,} families (seed {seed})...")
    generator = BoroughGenerator(families, seed)
    env = sized_for(settings, len(generator.plans))
    if env and processor(settings, "resolve").pid() is not None:
        console.print(f"the resolver already runs: it keeps its own {EXPECTED_RECORDS}")
        env = {}  # the processors are not started here: nothing to pass on, or to suggest
    elif env:
        console.print(
            f"the shipped model sized for its {len(generator.plans):,} person records"
            f" ({EXPECTED_RECORDS}; a deployment sets its own)"
        )
    with running(settings, env=env):
        published = publish_borough(
            settings,
            families,
            seed,
            0,
            Path("out") / f"borough-{families}-{seed}",
            generator=generator,
        )
        console.print(
            f"published {published.delivered:,} events "
            f"({published.failed} failed) in {published.seconds:.1f}s"
        )
        with console.status("waiting for the pipeline to catch up...") as status:
            catch_up = 0.0
            for name, topic in zip(
                PROCESSORS, (raw, settings.kafka.topic("pseudonymised")), strict=True
            ):
                catch_up += wait_caught_up(
                    settings,
                    name,
                    topic,
                    timeout_s=1800,
                    on_progress=lambda left, name=name: status.update(f"{name}: {left:,} to go"),
                )
        live = stage_status(settings, "resolve")
    lag = sum(r.lag for r in lag_rows(settings))
    return DemoResult(
        published,
        catch_up,
        time.monotonic() - started,
        live.get("latency_s", {}) if live else {},
        lag,
        env,
    )


def summary(settings: Settings, result: DemoResult, console: Console) -> None:
    """Records against unique people and families, accounting, quality against the truth."""
    rows = reconcile(settings.database_dsn)
    top = headline(settings.database_dsn)
    table = Table(title="earlylink demo: summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in (
        ("events published (this run)", f"{result.published.delivered:,}"),
        ("source systems", f"{len(rows)}"),
        (
            "received (every run in this store) = pseudonymised + suppressed"
            " + dead-lettered + quarantined",
            f"{sum(r.received for r in rows):,} = {sum(r.pseudonymised for r in rows):,} + "
            f"{sum(r.suppressed for r in rows):,} + {sum(r.dead_lettered for r in rows):,} + "
            f"{sum(r.quarantined for r in rows):,}",
        ),
        ("reconciliation adds up", "yes" if all(r.balanced for r in rows) else "NO"),
        ("linked person records (children)", f"{top.records:,} ({top.child_records:,})"),
        ("unique persons (children)", f"{top.persons:,} ({top.children:,})"),
        ("double counting removed", f"{1 - top.persons / top.records:.0%}" if top.records else "-"),
        ("families", f"{top.families:,}"),
        ("records withdrawn, opted out or retracted", f"{top.suppressed_or_retracted:,}"),
        ("service contacts / outcome measures", f"{top.contacts:,} / {top.outcomes:,}"),
        ("merges / splits recorded", f"{top.merges:,} / {top.splits:,}"),
    ):
        table.add_row(label, value)
    combos = query_view(settings.database_dsn, "service_combinations", {}, 3, "families")
    for services, _, families in combos.rows:
        table.add_row(f"families using: {services}", f"{families:,}" if families else "<10")
    for label, value in _quality(settings, result.published.truth_path):
        table.add_row(f"vs truth: {label}", value)
    latency = result.latency_s
    if latency:
        table.add_row(
            "end-to-end latency p50 / p95 / p99 (s, while catching up)",
            " / ".join("-" if v is None else f"{v:,.1f}" for v in latency.values()),
        )
    table.add_row("consumer lag at the end (messages)", f"{result.lag_after:,}")
    table.add_row("publish rate", f"{result.published.events / result.published.seconds:,.0f}/s")
    table.add_row("pipeline caught up after publishing", f"{result.catch_up_s:.1f}s")
    table.add_row("total time", f"{result.total_s:.1f}s")
    current, links = by_running(stored(settings.database_dsn))
    table.add_row("links scored by the resolver's model", f"{current:,} of {links:,}")
    console.print(table)
    if current < links:
        console.print(
            f"[yellow]note:[/] {links - current:,} links in this store were scored by older"
            " models (earlier runs), and the figures against the truth describe them: "
            f"`{_as_resolved(result.sized)}earlylink relink` re-scores them with this one",
            highlight=False,
        )
    console.print(
        f"ground truth: {result.published.truth_path}; more: `earlylink dq`, "
        f"`earlylink reconcile`, `{_as_resolved(result.sized)}earlylink evaluate`"
    )


def _as_resolved(env: dict[str, str]) -> str:
    """The settings to give a command so it scores with the resolver's model."""
    return "".join(f"{k}={v} " for k, v in sorted(env.items()))


def _quality(settings: Settings, truth: Path) -> list[tuple[str, str]]:
    wanted = (
        "pairwise precision",
        "pairwise recall",
        "pairwise F1",
        "twin pairs merged (should be 0)",
        "mother-child pairs in one family",
    )
    return [(k, v) for k, v in evaluate(settings, truth).rows() if k in wanted]
