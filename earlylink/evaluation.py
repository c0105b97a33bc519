"""``earlylink evaluate``: the identity graph against a synthetic borough's ground truth.

Record keys are recomputed from the truth file with the pseudonymisation keys (the truth holds
source record ids), then joined to the graph's memberships.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import Settings
from producers.synthetic.timeline import TruthRow
from producers.synthetic.truth import read_truth
from schemas.catalogue import catalogue
from schemas.wire import decode
from sink.graph import active_payloads, stored_state
from sink.linked import mothers_of_persons, person_of_records
from stream_processors import key_versions
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keyfiles import load_keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.diagnose import Miss, misses
from stream_processors.resolve.model import configured_model
from stream_processors.resolve.pairwise import Quality, pairs_together, pairwise
from stream_processors.resolve.records import from_pseudo
from stream_processors.resolve_agent import MODEL_STATE

EXCLUDED = ("opted_out", "withdrew_consent", "retracted")


@dataclass(frozen=True)
class Evaluation:
    quality: Quality
    truth: dict[str, str]  # record key -> true person, for the records evaluated
    twins_merged: tuple[int, int]
    renamed_babies_linked: tuple[int, int]
    families_recovered: tuple[int, int]
    predicted: dict[str, str] = field(default_factory=dict)  # record key -> predicted person

    def rows(self) -> list[tuple[str, str]]:
        def share(x: tuple[int, int]) -> str:
            return f"{x[0]:,} of {x[1]:,}"

        return [
            *self.quality.rows(),
            ("twin pairs merged (should be 0)", share(self.twins_merged)),
            ("renamed babies linked to their other records", share(self.renamed_babies_linked)),
            ("mother-child pairs in one family", share(self.families_recovered)),
        ]


def evaluate(settings: Settings, truth_path: Path) -> Evaluation:
    truth_rows = read_truth(truth_path)
    keyring = load_keyring(settings)
    stage = Pseudonymiser(catalogue(), keyring, Encoder(keyring))
    key_of = {
        (r.source_system, r.record_id): stage.record_key(r.source_system, r.record_id)
        for r in truth_rows
    }
    predicted = person_of_records(settings.database_dsn)
    families = mothers_of_persons(settings.database_dsn)
    truth = {
        key_of[(r.source_system, r.record_id)]: r.person_id
        for r in truth_rows
        if not any(flag in r.flags.split(";") for flag in EXCLUDED)
    }
    by_person: dict[str, list[str]] = defaultdict(list)
    for key, person in truth.items():
        by_person[person].append(key)
    twin_pairs = _twin_pairs(truth_rows, by_person)
    baby_pairs = [
        (key_of[(r.source_system, r.record_id)], other)
        for r in truth_rows
        if "renamed_baby" in r.flags
        for other in by_person.get(r.person_id, [])
        if other != key_of[(r.source_system, r.record_id)]
    ]
    mothers = _mother_pairs(truth_rows, by_person, predicted, families)

    return Evaluation(
        pairwise(truth, predicted),
        {k: p for k, p in truth.items() if k in predicted},
        pairs_together(twin_pairs, predicted),
        pairs_together(baby_pairs, predicted),
        mothers,
        predicted,
    )


def explain_misses(settings: Settings, evaluation: Evaluation) -> list[Miss]:
    """Every wrong pair of the evaluation with its cause (``resolve.diagnose``), scored by the
    configured model on the graph's active records: keys, levels and weights, never a value."""
    version = key_versions.working(settings.database_dsn)
    records = [
        from_pseudo(decode(p, catalogue()).record, version)
        for p in active_payloads(settings.database_dsn, 10_000_000)
    ]
    model = configured_model(settings)
    return misses(
        records, evaluation.truth, evaluation.predicted, model, settings.processor.block_cap
    )


def model_note(settings: Settings) -> str | None:
    """What to say when the model these settings configure is not the one the resolver last
    recorded running (another model file or ``EXPECTED_RECORDS`` here): ``explain_misses``
    would then give that model's causes and weights, not the store's. None when they are the
    same, or no resolver has run."""
    running = stored_state(settings.database_dsn, MODEL_STATE)
    mine = configured_model(settings).version
    if running is None or running == mine:
        return None
    return (
        f"the resolver runs model {running}; these settings give model {mine}, whose causes"
        " and weights follow: run this with the resolver's EARLYLINK_PROCESSOR_MODEL_PATH and"
        " EARLYLINK_PROCESSOR_EXPECTED_RECORDS"
    )


def _twin_pairs(rows: list[TruthRow], by_person: dict[str, list[str]]) -> list[tuple[str, str]]:
    seen = {(r.person_id, r.twin_of) for r in rows if r.twin_of}
    return [
        (by_person[a][0], by_person[b][0])
        for a, b in sorted(seen)
        if a < b and by_person.get(a) and by_person.get(b)
    ]


def _mother_pairs(
    rows: list[TruthRow],
    by_person: dict[str, list[str]],
    predicted: dict[str, str],
    families: dict[str, set[str]],
) -> tuple[int, int]:
    """True mother-child pairs (both recorded) whose predicted persons are linked as family."""
    pairs = {(r.person_id, r.mother_id) for r in rows if r.mother_id}
    found = checked = 0
    for child, mother in sorted(pairs):
        child_keys = [k for k in by_person.get(child, []) if k in predicted]
        mother_keys = [k for k in by_person.get(mother, []) if k in predicted]
        if not child_keys or not mother_keys:
            continue
        checked += 1
        mother_persons = {predicted[k] for k in mother_keys}
        found += any(families.get(predicted[k], set()) & mother_persons for k in child_keys)
    return found, checked
