"""Linkage quality in one process, in seconds: the development loop beside the streamed bench.

The same pure functions the processors run (the pseudonymise stage on each raw event, then
blocking, scoring, the constraints and clustering of ``stream_processors.resolve``) applied as
one batch to FEBRL1, FEBRL2 (through their onboarding mapping files) and the synthetic borough,
without Kafka or PostgreSQL. A batch run is what the streamed resolver must equal (it is
sequence-neutral), so this reads the same partition in a fraction of the time;
``bench.linkage_quality`` is the measurement of record, streamed, with Splink beside it.

``python -m bench.linkage_offline [--only FEBRL1,FEBRL2,borough] [--families N] [--model M]
[--keep-rules a,b,...] [--misses N] [--unblocked N]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.common import keeping_rules
from bench.linkage_quality import joined, true_pairs
from core.settings import LinkageSettings
from earlylink.evaluation import EXCLUDED
from producers.extract import load_mapping, map_row, rows_of
from producers.febrl import dataset_path, person_of
from schemas.catalogue import catalogue
from schemas.models import Event, PersonRecord
from schemas.wire import decode, encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.rules import rules_from
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.batch import recluster, score_changed
from stream_processors.resolve.blocking import candidate_pairs
from stream_processors.resolve.diagnose import by_cause, misses, unblocked
from stream_processors.resolve.model import Model, load_model
from stream_processors.resolve.pairwise import pairwise
from stream_processors.resolve.records import LinkRecord, from_pseudo
from stream_processors.resolve.train import train

ROOT = Path(__file__).resolve().parents[1]
RING = Keyring({1: b"o" * 32}, 1)
FEBRL_LINKAGE = LinkageSettings(adult_age_years=(0, 110), postcodes="any")
CAP = 100


@dataclass
class Offline:
    name: str
    records: list[LinkRecord]
    truth: dict[str, str]  # record key -> person
    twins: frozenset[tuple[str, str]] = frozenset()  # pairs of persons who are twins
    renamed: frozenset[str] = frozenset()  # persons first recorded under a placeholder name


def _pseudonymised(events: Iterator[tuple[Event, str]], linkage: LinkageSettings) -> Offline:
    stage = Pseudonymiser(catalogue(), RING, Encoder(RING), rules_from(linkage))
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    latest: dict[str, tuple[int, LinkRecord]] = {}
    truth: dict[str, str] = {}
    for i, (event, person) in enumerate(events):
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)
        result = stage.process(RawMessage("raw", 0, i, encode(version, event.to_avro())), now)
        if result.value is None:
            continue
        decoded = decode(result.value, catalogue())
        if decoded.event_type != "PseudoRecord":
            continue
        record = from_pseudo(decoded.record)
        held = latest.get(record.record_key)
        if held is None or decoded.record["record_version"] >= held[0]:
            latest[record.record_key] = (decoded.record["record_version"], record)
            truth[record.record_key] = person
    return Offline("", [r for _, r in latest.values()], truth)


def febrl(number: int) -> Offline:
    mapping = load_mapping(ROOT / "examples" / "febrl" / f"febrl{number}-mapping.yaml")
    as_of = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

    def events() -> Iterator[tuple[Event, str]]:
        for _, row in rows_of(dataset_path(number)):
            yield map_row(mapping, row, as_of)[0], person_of(row["rec_id"])

    data = _pseudonymised(events(), FEBRL_LINKAGE)
    data.name = f"FEBRL{number}"
    return data


def borough(families: int, seed: int = 7) -> Offline:
    from producers.synthetic.timeline import BoroughGenerator

    generator = BoroughGenerator(families, seed)
    truth = {(t.source_system, t.record_id): t for t in generator.truth()}

    def events() -> Iterator[tuple[Event, str]]:
        for event in generator.events():
            if not isinstance(event, PersonRecord):
                continue
            row = truth[(event.envelope.source_system, event.record_id)]
            if any(f in row.flags.split(";") for f in EXCLUDED):
                continue
            yield event, row.person_id

    data = _pseudonymised(events(), LinkageSettings())
    data.name = "borough"
    rows = truth.values()
    data.twins = frozenset(
        (min(r.person_id, r.twin_of), max(r.person_id, r.twin_of)) for r in rows if r.twin_of
    )
    data.renamed = frozenset(r.person_id for r in rows if "renamed_baby" in r.flags.split(";"))
    return data


def twins_and_renamed(data: Offline, predicted: dict[str, str]) -> str:
    """ "twins merged / twin pairs, renamed babies linked whole / renamed babies" (borough),
    among the persons with records in the data: a baby whose every record was withdrawn,
    opted out or retracted has nothing to link (counted apart)."""
    persons: dict[str, set[str]] = defaultdict(set)
    for key, person in data.truth.items():
        persons[person].add(predicted[key])
    twins = [(a, b) for a, b in data.twins if persons.get(a) and persons.get(b)]
    merged = sum(1 for a, b in twins if persons[a] & persons[b])
    renamed = [p for p in data.renamed if persons.get(p)]
    whole = sum(1 for p in renamed if len(persons[p]) == 1)
    gone = len(data.renamed) - len(renamed)
    return f"{merged}/{len(twins)} twins merged, {whole}/{len(renamed)} renamed whole" + (
        f" ({gone} with no record linked)" if gone else ""
    )


def link(
    records: Sequence[LinkRecord], model: Model, cap: int = CAP, live: bool = True
) -> dict[str, str]:
    """A batch run with the resolver's own pure steps: every candidate pair scored
    (``score_changed``, a model without term frequencies of its own taking them from the
    records, as the resolver does from the store: ``terms``), the graph clustered under the
    constraints (``recluster``)."""
    by_key = {r.record_key: r for r in records}
    pairs = [
        (records[a].record_key, records[b].record_key)
        for a, b in candidate_pairs(records, model.blocking, cap)
    ]
    counts = model.counted_terms(records) if live else None
    edges = [(a, b, w) for a, b, w, _ in score_changed(by_key, by_key, pairs, model, counts)]
    assignment = recluster(by_key, edges, {}, twin_name_dice=model.twin_name_dice)
    return {k: person for person, members in assignment.persons.items() for k in members}


def blocking_recall(data: Offline, model: Model, cap: int = CAP) -> tuple[float, float, float]:
    """(share of true pairs among the candidates, candidates per record, share of true pairs
    joined through candidate true pairs: ``bench.linkage_quality.joined``)."""
    keys = [r.record_key for r in data.records]
    found = {
        (min(keys[a], keys[b]), max(keys[a], keys[b]))
        for a, b in candidate_pairs(data.records, model.blocking, cap)
    }
    wanted = true_pairs(data.truth)
    recall = len(wanted & found) / max(len(wanted), 1)
    return recall, len(found) / max(len(keys), 1), joined(data.truth, found)


def _row(data: Offline, system: str, model: Model, seconds: float) -> str:
    started = time.perf_counter()
    predicted = link(data.records, model)
    quality = pairwise(data.truth, predicted)
    recall, per_record, together = blocking_recall(data, model)
    took = time.perf_counter() - started + seconds
    return (
        f"| {data.name} | {system} | {quality.precision:.4f} | {quality.recall:.4f} "
        f"| {quality.f1:.4f} | {recall:.4f} | {together:.4f} | {per_record:.1f} | {took:.1f} |"
        + (f" {twins_and_renamed(data, predicted)} |" if data.twins else "")
    )


def _show_misses(data: Offline, model: Model, limit: int) -> None:
    found = misses(data.records, data.truth, link(data.records, model), model, CAP)
    for kind, cause, n in by_cause(found):
        print(f"  {data.name}: {kind} {cause}: {n}")
    for miss in found[:limit]:
        print("   ", miss.describe())


def _show_unblocked(data: Offline, model: Model, limit: int) -> None:
    patterns = unblocked(data.records, data.truth, model, CAP)
    print(f"  {data.name}: {sum(n for _, n in patterns)} true pairs share no key within the cap")
    for levels, n in patterns[:limit]:
        print(f"    {n} {', '.join(levels)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="FEBRL1,FEBRL2,borough")
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--model", type=Path, default=None, help="a model file to start from")
    parser.add_argument(
        "--keep-rules", help="comma-separated blocking rules: the model with only these"
    )
    parser.add_argument("--misses", type=int, default=0, help="list this many wrong pairs")
    parser.add_argument(
        "--unblocked",
        type=int,
        default=0,
        help="list this many level patterns of the true pairs no blocking key joins",
    )
    args = parser.parse_args()
    makers = {"FEBRL1": lambda: febrl(1), "FEBRL2": lambda: febrl(2)}
    makers["borough"] = lambda: borough(args.families)
    print(
        "| data set | system | precision | recall | F1 | blocking recall"
        " | joined through blocked | pairs/record | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.only.split(","):
        started = time.perf_counter()
        data = makers[name]()
        shipped = load_model(args.model)
        if args.keep_rules:
            shipped = keeping_rules(shipped, args.keep_rules.split(","))
        print(_row(data, "shipped", shipped, time.perf_counter() - started), flush=True)
        sized = replace(shipped, prior=1 / len(data.records))  # EXPECTED_RECORDS = the count
        print(_row(data, "shipped, prior 1/records", sized, 0.0), flush=True)
        started = time.perf_counter()
        trained, _ = train(data.records, shipped, CAP)
        print(_row(data, "trained", trained, time.perf_counter() - started), flush=True)
        if args.misses:
            _show_misses(data, trained, args.misses)
        if args.unblocked:
            _show_unblocked(data, shipped, args.unblocked)


if __name__ == "__main__":
    main()
