"""The main job: a synthetic borough streamed through the whole pipeline, then a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from earlylink.keys import ensure_key
from earlylink.processors import PROCESSORS, running, wait_caught_up
from earlylink.settings import Settings
from earlylink.topics import ensure_topics
from producers.synthetic.publish import PublishResult, publish_borough
from sink.migrate import migrate
from sink.quality import reconcile


@dataclass(frozen=True)
class DemoResult:
    published: PublishResult
    catch_up_s: float
    total_s: float


def run_demo(settings: Settings, families: int, seed: int, console: Console) -> DemoResult:
    started = time.monotonic()
    ensure_topics(settings.kafka)
    migrate(settings.database_dsn)
    if ensure_key(settings):
        console.print(f"created a pseudonymisation key in {settings.key_dir}")
    raw = settings.kafka.topic("raw")
    with running(settings):
        console.print(f"generating a borough of {families:,} families (seed {seed})...")
        published = publish_borough(
            settings, families, seed, 0, Path("out") / f"borough-{families}-{seed}"
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
    return DemoResult(published, catch_up, time.monotonic() - started)


def summary(settings: Settings, result: DemoResult, console: Console) -> None:
    rows = reconcile(settings.database_dsn)
    with psycopg.connect(settings.database_dsn) as conn:
        reasons = conn.execute(
            "SELECT code, count(*) FROM (SELECT reason AS code FROM ingest_ledger"
            " WHERE outcome = 'DEAD_LETTERED' UNION ALL"
            " SELECT unnest(field_issues) FROM ingest_ledger) x GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    table = Table(title="earlylink demo: summary")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("events published (this run)", f"{result.published.delivered:,}")
    table.add_row("source systems", f"{len(rows)}")
    for label, value in (
        ("received (all runs)", sum(r.received for r in rows)),
        ("  pseudonymised", sum(r.pseudonymised for r in rows)),
        ("  consent-suppressed", sum(r.suppressed for r in rows)),
        ("  dead-lettered", sum(r.dead_lettered for r in rows)),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row("reconciliation adds up", "yes" if all(r.balanced for r in rows) else "NO")
    for code, count in reasons[:6]:
        table.add_row(f"  issue: {code}", f"{count:,}")
    table.add_row("publish rate", f"{result.published.events / result.published.seconds:,.0f}/s")
    table.add_row("pipeline caught up after publishing", f"{result.catch_up_s:.1f}s")
    table.add_row("total time", f"{result.total_s:.1f}s")
    console.print(table)
    console.print(
        f"ground truth: {result.published.truth_path}; more: `earlylink dq`, `earlylink reconcile`"
    )
