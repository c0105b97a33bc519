"""The whole pipeline on real services: a synthetic borough published raw, pseudonymised,
resolved; then linkage quality against the ground truth and the nothing-lost accounting."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.settings import PseudonymisationSettings, Settings
from earlylink.evaluation import evaluate, explain_misses
from producers.synthetic.publish import publish_borough
from producers.synthetic.timeline import BoroughGenerator
from schemas.models import PersonRecord
from sink.quality import reconcile
from tests.conftest import TEST_SECRET, wait_pipeline_caught_up


def test_borough_end_to_end(
    fresh_settings: Settings,
    run_processor: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    result = publish_borough(settings, 400, 3, 0, tmp_path, show_progress=False)
    assert result.failed == 0
    wait_pipeline_caught_up(settings, pseudo, resolve, 300)

    assert all(r.balanced for r in reconcile(settings.database_dsn))
    monkeypatch.setenv("EARLYLINK_PSEUDONYMISATION_SECRET", TEST_SECRET)
    keyed = Settings(
        kafka=settings.kafka,
        database=settings.database,
        stack=settings.stack,
        pseudonymisation=PseudonymisationSettings(),
    )
    quality = evaluate(keyed, result.truth_path)
    assert quality.quality.records > 2500
    assert quality.quality.f1 >= 0.98, quality.rows()
    assert quality.quality.precision >= 0.99, quality.rows()
    twins_merged, twin_pairs = quality.twins_merged
    assert twin_pairs > 0 and twins_merged == 0
    linked, babies = quality.renamed_babies_linked
    assert babies > 0 and linked / babies >= 0.95
    found, mothers = quality.families_recovered
    assert mothers > 0 and found / mothers >= 0.95

    # every missed pair explained, and the explanations name no value
    wrong = explain_misses(keyed, quality)
    sizes = Counter(quality.truth.values())
    true_pairs = sum(n * (n - 1) // 2 for n in sizes.values())
    missed = sum(1 for m in wrong if m.kind == "false_negative")
    assert missed == round(true_pairs * (1 - quality.quality.recall))
    explained = " ".join(m.describe() for m in wrong)

    # no identifier and no secret in the logs of the whole run
    logs = Path(pseudo.log_path).read_text(errors="replace")
    logs += Path(resolve.log_path).read_text(errors="replace")
    assert len(logs) > 1000
    identifiers = _identifiers()
    assert len(identifiers) > 1000
    leaked = [value for value in identifiers if value in logs]
    assert leaked == [], f"{len(leaked)} identifiers in the processor logs"
    assert not [value for value in identifiers if value in explained]
    assert TEST_SECRET not in logs


def _identifiers() -> set[str]:
    """The borough's NHS numbers, full names and postcodes (regenerated: same seed)."""
    found: set[str] = set()
    for event in BoroughGenerator(400, 3).events():
        if isinstance(event, PersonRecord):
            found.update(v for v in (event.nhs_number, event.postcode) if v)
            if event.given_names and event.family_name:
                found.add(f"{event.given_names} {event.family_name}")
    return found
