"""The ``earlylink`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.errors import EarlylinkError
from earlylink.cli.db_cmd import db_app, topics_app
from earlylink.cli.deadletter_cmd import deadletter_app
from earlylink.cli.keys_cmd import keys_app
from earlylink.cli.ops_cmd import lag, status
from earlylink.cli.produce_cmd import produce_app
from earlylink.cli.quality_cmd import dq, reconcile
from earlylink.cli.quarantine_cmd import quarantine_app
from earlylink.cli.query_cmd import query
from earlylink.cli.report_cmd import report as report_command
from earlylink.cli.run_cmd import run_app
from earlylink.cli.schemas_cmd import schemas_app
from earlylink.cli.sources_cmd import sources_app
from earlylink.cli.stack_cmd import stack_app
from sink.connection import ConnectionLost

app = typer.Typer(
    help="earlylink: near-real-time, privacy-preserving linkage of early-years service data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(stack_app, name="stack")
app.add_typer(run_app, name="run")
app.add_typer(db_app, name="db")
app.add_typer(produce_app, name="produce")
app.add_typer(keys_app, name="keys")
app.add_typer(sources_app, name="sources")
app.add_typer(schemas_app, name="schemas")
app.add_typer(deadletter_app, name="deadletter")
app.add_typer(quarantine_app, name="quarantine")
app.command()(dq)
app.command()(reconcile)
app.command()(query)
app.command(name="report")(report_command)
app.command()(lag)
app.command()(status)
app.add_typer(topics_app, name="topics")

err = Console(stderr=True)


def main() -> None:
    """Entry point: run the CLI, turning earlylink errors into a clear message and exit code 1."""
    try:
        app()
    except EarlylinkError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except ConnectionLost as exc:
        err.print(
            f"[bold red]error:[/] cannot use PostgreSQL: {exc}\n"
            "Is the stack up (`earlylink stack up`) and the database there?",
            highlight=False,
        )
        sys.exit(1)


@app.command()
def demo(
    families: int = typer.Option(15_000, help="Families in the synthetic borough."),
    seed: int = typer.Option(7, help="Random seed."),
) -> None:
    """The main job: stream a synthetic borough through the pipeline and print a summary."""
    from rich.console import Console

    from core.settings import get_settings
    from earlylink.demo import run_demo, summary

    console = Console()
    settings = get_settings()
    summary(settings, run_demo(settings, families, seed, console), console)
    from earlylink.report.build import build_report

    folder = Path("out") / "report"
    with console.status("writing the partnership report..."):
        made = build_report(
            settings.as_login("analyst").database_dsn, folder / "report.html", folder / "csv"
        )
    console.print(
        f"partnership report ({made.period.label}): {made.html} (tables as CSV in {folder / 'csv'})"
    )


@app.command()
def evaluate(
    truth: Annotated[Path, typer.Argument(help="truth.csv from `produce synthetic`.", exists=True)],
    misses: Annotated[
        int,
        typer.Option(
            help="Also list this many wrong pairs with their cause (never blocked, below the"
            " threshold, kept apart by a constraint, clustering) and the pair's levels and"
            " weights: record keys, levels and weights only, never a value."
        ),
    ] = 0,
) -> None:
    """Linkage quality of the identity graph against a synthetic borough's ground truth."""
    from rich.console import Console
    from rich.table import Table

    from core.settings import get_settings
    from earlylink.evaluation import evaluate as run
    from earlylink.evaluation import explain_misses, model_note
    from stream_processors.resolve.diagnose import by_cause

    settings = get_settings()
    console = Console()
    result = run(settings, truth)
    table = Table(title="linkage quality against ground truth", show_header=False)
    for label, value in result.rows():
        table.add_row(label, value)
    console.print(table)
    if misses <= 0:
        return
    note = model_note(settings)
    if note is not None:
        console.print(f"[yellow]note:[/] {note}")
    with console.status("scoring the wrong pairs..."):
        found = explain_misses(settings, result)
    causes = Table(title="wrong pairs by cause")
    for column in ("kind", "cause", "pairs"):
        causes.add_column(column)
    for kind, cause, n in by_cause(found):
        causes.add_row(kind, cause, f"{n:,}")
    console.print(causes)
    for miss in found[:misses]:
        console.print(miss.describe(), highlight=False, soft_wrap=True)


@app.command()
def train(
    out: Annotated[Path, typer.Option(help="Where to write the model file.")] = Path("model.json"),
    records: Annotated[int, typer.Option(help="Most records to train on.")] = 200_000,
) -> None:
    """Train the linkage model on the identity graph's records: u from random pairs, m by EM,
    name-token frequencies; then point EARLYLINK_PROCESSOR_MODEL_PATH at the file."""
    from rich.console import Console
    from rich.table import Table

    from core.settings import get_settings
    from earlylink.training import train_on_graph

    console = Console()
    with console.status("loading records and training..."):
        model, report = train_on_graph(get_settings(), records)
    model.save(out)
    table = Table(
        title=f"model {model.version} ({report.blocked_pairs:,} blocked pairs, "
        f"{report.match_share_of_blocked:.1%} matches)"
    )
    for column in ("comparison", "level", "m", "u", "weight"):
        table.add_column(column)
    for comparison, levels in model.probabilities.items():
        for level, (m, u) in levels.items():
            table.add_row(
                comparison, level, f"{m:.4f}", f"{u:.6f}", f"{model.weight(comparison, level):+.2f}"
            )
    console.print(table)
    console.print(f"written to {out}; prior {model.prior:.2e}")


@app.command()
def relink(
    chunk: Annotated[int, typer.Option(help="Records re-scored per transaction.")] = 2_000,
    restart: Annotated[
        bool, typer.Option(help="Start again from the first record instead of resuming.")
    ] = False,
) -> None:
    """Re-score and re-cluster the stored graph with the configured model (after `earlylink
    train`: point EARLYLINK_PROCESSOR_MODEL_PATH at the new model and restart the resolver
    first). Runs while the stream runs, a chunk per transaction; an interrupted relink resumes."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from core.settings import get_settings
    from earlylink.relink import Relinker

    relinker = Relinker(get_settings(), chunk)
    console = Console()
    columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress("relinking", *columns, console=console, transient=True) as bar:
        task = bar.add_task("relink", total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = asyncio.run(relinker.run(restart=restart, progress=show))
    if report.already_done:
        console.print(
            f"the graph is already relinked with model {report.model} ({report.resumed_from:,}"
            " records); --restart relinks it again"
        )
        return
    resumed = f", resuming after {report.resumed_from:,}" if report.resumed_from else ""
    console.print(
        f"relinked {report.records:,} records with model {report.model}{resumed};"
        f" {report.changes_published:,} identity changes published"
    )
