"""Generate a borough and publish it: truth file first, then events in time order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings
from producers.at_source import AtSourcePublisher
from producers.pacing import paced
from producers.publisher import Publisher
from producers.synthetic.services import SERVICES
from producers.synthetic.timeline import BoroughGenerator
from producers.synthetic.truth import realism, write_truth
from schemas.registry import codec_for


@dataclass(frozen=True)
class PublishResult:
    events: int
    delivered: int
    failed: int
    seconds: float
    truth_path: Path
    truth_rows: int
    realism: list[tuple[str, str]]


def publish_borough(
    settings: Settings,
    families: int,
    seed: int,
    rate: float,
    folder: Path,
    show_progress: bool = True,
    at_source: bool = False,
    generator: BoroughGenerator | None = None,
) -> PublishResult:
    """Generate the borough (or take ``generator``, made with ``families`` and ``seed``), write
    its truth, publish its events (raw, or tokens at source)."""
    from sink.sources import add_sources

    # the synthetic borough is the operator's own test data: its services register themselves
    add_sources(settings.database_dsn, [s.code for s in SERVICES], "synthetic borough")
    generator = generator or BoroughGenerator(families, seed)
    events = generator.events()
    truth_path = folder / "truth.csv"
    truth_rows = write_truth(generator, truth_path)
    started = time.monotonic()
    publisher: Publisher | AtSourcePublisher = (
        AtSourcePublisher(settings)
        if at_source
        else Publisher(settings.kafka, settings.kafka.topic("raw"), codec=codec_for(settings))
    )
    for event in paced(events, len(events), rate or None, "publishing", show=show_progress):
        publisher.publish(event)
    report = publisher.flush()
    return PublishResult(
        len(events),
        report.delivered,
        report.failed,
        time.monotonic() - started,
        truth_path,
        truth_rows,
        realism(generator),
    )
