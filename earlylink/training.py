"""``earlylink train``'s work: the identity graph's active records, decoded, trained on.

Shared by the command and by ``bench.linkage_quality`` (which trains on the graph a first
stream made, as a new deployment would).
"""

from __future__ import annotations

from core.errors import ConfigurationError
from core.settings import Settings
from schemas.catalogue import catalogue
from schemas.wire import decode
from sink.graph import active_payloads
from stream_processors import key_versions
from stream_processors.resolve.model import Model, configured_model
from stream_processors.resolve.records import from_pseudo
from stream_processors.resolve.train import TrainingReport, train

MIN_RECORDS = 100


def train_on_graph(settings: Settings, limit: int = 200_000) -> tuple[Model, TrainingReport]:
    """A model trained on up to ``limit`` active records, starting from the configured one."""
    version = key_versions.working(settings.database_dsn)
    records = [
        from_pseudo(decode(p, catalogue()).record, version)
        for p in active_payloads(settings.database_dsn, limit)
    ]
    if len(records) < MIN_RECORDS:
        raise ConfigurationError(
            f"{len(records)} records in the graph: fewer than {MIN_RECORDS}, nothing to train on"
        )
    start = configured_model(settings)
    return train(records, start, settings.processor.block_cap)
