"""Onboarding outside data through the real pipeline: FEBRL1 imported through its committed
mapping (every column used or listed unused by the check), shared identifiers that link two
sources on their own and keep two people with different values apart, and names in Cyrillic and
Arabic script that link across sources without a raw name downstream."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from pydantic import SecretStr

from core.settings import LinkageSettings, PseudonymisationSettings, Settings
from earlylink.evaluation import evaluate
from producers.extract import check_extract, columns_of, import_extract, load_mapping
from producers.febrl import dataset_path, truth_rows
from producers.publisher import Publisher
from schemas.models import Envelope, LocalId, PersonRecord, Role, Sex
from sink.quality import reconcile
from stream_processors.pseudonymise.rules import rules_from
from tests.conftest import TEST_SECRET, wait_pipeline_caught_up

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FEBRL_ENV = {  # FEBRL's people are 0 to 100 years old and its postcodes Australian
    "EARLYLINK_LINKAGE_ADULT_AGE_YEARS": "[0, 110]",
    "EARLYLINK_LINKAGE_POSTCODES": "any",
}
SHARED = [
    {"scheme": "client-index", "format": "CI[0-9]{6}", "unique": True},
    {"scheme": "family-case", "unique": False},
]


def _with(settings: Settings, **linkage: Any) -> Settings:
    return Settings(
        paths=settings.paths,
        stack=settings.stack,
        kafka=settings.kafka,
        database=settings.database,
        processor=settings.processor,
        pseudonymisation=PseudonymisationSettings(secret=SecretStr(TEST_SECRET)),
        linkage=LinkageSettings(**linkage),
    )


def _persons_of(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        return dict(
            conn.execute(
                "SELECT m.record_key, m.person_id FROM memberships m"
                " JOIN records r USING (record_key) WHERE r.state = 'ACTIVE'"
            ).fetchall()
        )


def test_febrl1_through_the_pipeline(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Path
) -> None:
    settings = _with(fresh_settings, adult_age_years=(0, 110), postcodes="any")
    febrl = dataset_path(1)
    mapping = load_mapping(EXAMPLES / "febrl" / "febrl1-mapping.yaml")
    as_of = dt.date(2000, 1, 1)

    profile = check_extract(febrl, mapping, as_of, rules_from(settings.linkage), False)
    columns = columns_of(febrl)
    assert len(columns) == 11
    assert set(columns) == mapping.columns_used() | set(profile.unused_columns)
    assert profile.unused_columns == []  # the committed mapping uses every FEBRL column
    assert (profile.rows, profile.mapped, profile.dead_lettered) == (1000, 1000, 0)
    assert "IMPLAUSIBLE_DOB" not in profile.fields["date_of_birth"].left_out
    assert profile.fields["postcode"].filled == 1000

    result = import_extract(settings, febrl, mapping, as_of=as_of, show_progress=False)
    assert (result.rows, result.mapped, result.delivered, result.failed) == (1000, 1000, 1000, 0)
    pseudo = run_processor("pseudonymise", settings, **FEBRL_ENV)
    resolve = run_processor("resolve", settings, **FEBRL_ENV)
    wait_pipeline_caught_up(settings, pseudo, resolve)

    (row,) = [r for r in reconcile(settings.database_dsn) if r.source_system == "febrl1"]
    assert (row.received, row.pseudonymised, row.balanced) == (1000, 1000, True)
    with psycopg.connect(settings.database_dsn) as conn:
        issues = conn.execute(
            "SELECT count(*) FROM ingest_ledger"
            " WHERE 'date_of_birth:IMPLAUSIBLE_DOB' = ANY(field_issues)"
        ).fetchone()
    assert issues == (0,)  # the processors judged the dates as the check did

    truth = tmp_path / "truth.csv"
    with truth.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["source_system", "record_id", "person_id"])
        writer.writeheader()
        writer.writerows(truth_rows(1))
    quality = evaluate(settings, truth).quality
    assert quality.records == 1000 and quality.true_persons == 500
    # linkage quality on FEBRL is the linkage issue's to raise; this floor only catches an
    # import that loses what links (names, dates, addresses or postcodes): with the shipped
    # model precision was 1.000 and recall 0.826 when written (0.632 without the postcodes)
    assert quality.precision >= 0.95 and quality.recall >= 0.75, quality


def _person(source: str, **kw: Any) -> PersonRecord:
    fields: dict[str, Any] = {
        "envelope": Envelope(
            event_id=uuid.uuid4(),
            event_time=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
            source_system=source,
            schema_version=2,
        ),
        "record_id": f"{source}-{uuid.uuid4().hex[:8]}",
        "record_version": 1,
        "role": Role.CHILD,
        "sex": Sex.FEMALE,
        "date_of_birth": dt.date(2023, 6, 1),
        "postcode": "SE11 5QY",
    }
    fields.update(kw)
    return PersonRecord(**fields)


def _ci(value: str) -> list[LocalId]:
    return [LocalId(scheme="client-index", value=value)]


def test_shared_ids_and_other_scripts_link_through_the_pipeline(
    fresh_settings: Settings, run_processor: Callable[..., Any]
) -> None:
    settings = _with(fresh_settings, shared_ids=SHARED)
    stage_key = _key_maker(settings)
    nothing = {"date_of_birth": None, "postcode": None}
    records = {
        # the same child in two sources with nothing in common but the borough client index
        "ci_a": _person("cc", local_ids=_ci("CI000123"), given_names="Amara", **nothing),
        "ci_b": _person("hv", local_ids=_ci("ci-000123"), family_name="Okafor", **nothing),
        # two children alike in every field but their client index: never one person
        "twin_a": _person("cc", local_ids=_ci("CI000200"), given_names="Ada", family_name="Eze"),
        "twin_b": _person("hv", local_ids=_ci("CI000201"), given_names="Ada", family_name="Eze"),
        # the same child written in Cyrillic by two sources, another in Arabic script
        "cyr_a": _person("cc", given_names="Анастасия", family_name="Кузнецова"),
        "cyr_b": _person("hv", given_names="Анастасия", family_name="Кузнецова"),
        "ar_a": _person("cc", given_names="فاطمة", family_name="الحسيني", postcode="SW9 7AA"),
        "ar_b": _person("hv", given_names="فاطمة", family_name="الحسيني", postcode="SW9 7AA"),
    }
    with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
        for event in records.values():
            publisher.publish(event)
    env = {"EARLYLINK_LINKAGE_SHARED_IDS": json.dumps(SHARED)}
    pseudo = run_processor("pseudonymise", settings, **env)
    resolve = run_processor("resolve", settings, **env)
    wait_pipeline_caught_up(settings, pseudo, resolve)

    person = {name: _persons_of(settings.database_dsn)[stage_key(e)] for name, e in records.items()}
    assert person["ci_a"] == person["ci_b"]
    assert person["twin_a"] != person["twin_b"]
    assert person["cyr_a"] == person["cyr_b"]
    assert person["ar_a"] == person["ar_b"]
    assert len({person[n] for n in ("ci_a", "twin_a", "twin_b", "cyr_a", "ar_a")}) == 5
    with psycopg.connect(settings.database_dsn) as conn:
        counted = conn.execute(
            "SELECT source_system, sum(transliterated) FROM ingest_ledger GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert counted == [("cc", 4), ("hv", 4)]


def _key_maker(settings: Settings) -> Callable[[PersonRecord], str]:
    from schemas.catalogue import catalogue
    from stream_processors.pseudonymise.bloom import Encoder
    from stream_processors.pseudonymise.keyfiles import load_keyring
    from stream_processors.pseudonymise.stage import Pseudonymiser

    keyring = load_keyring(settings)
    stage = Pseudonymiser(catalogue(), keyring, Encoder(keyring))
    return lambda e: stage.record_key(e.envelope.source_system, e.record_id)
