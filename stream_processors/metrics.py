"""Prometheus metrics of the stream processors, served with a health check on each stage's
web port (``/metrics``, ``/health``).

Names follow the common conventions: ``kafka_consumergroup_lag`` as the Kafka exporters name
it (messages) and ``kafka_consumergroup_lag_seconds``; earlylink's own under ``earlylink_``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import faust
from confluent_kafka import KafkaException
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from core.settings import Settings
from stream_processors.status_page import STATS, serve_status

log = logging.getLogger(__name__)

EVENTS = Counter(
    "earlylink_events_total", "Events processed, by stage and outcome", ["stage", "outcome"]
)
BATCH_SECONDS = Histogram(
    "earlylink_batch_duration_seconds",
    "Time from a micro-batch being taken to its commit (including any wait for the previous"
    " batch to land first)",
    ["stage"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
LATENCY = Histogram(
    "earlylink_end_to_end_latency_seconds",
    "Raw event produced to Kafka -> committed in PostgreSQL by this stage",
    ["stage"],
    buckets=(
        0.025,
        0.05,
        0.075,
        0.1,
        0.15,
        0.2,
        0.3,
        0.4,
        0.5,
        0.75,
        1,
        1.5,
        2,
        3,
        5,
        10,
        30,
        60,
        300,
    ),
)
LAST_COMMIT = Gauge(
    "earlylink_last_commit_timestamp_seconds", "When this stage last committed a batch", ["stage"]
)
STORE_RECORDS = Gauge(
    "earlylink_store_records",
    "Active records in the store as the resolver last counted them (held), and the records"
    " its model expects (expected: 1 / its prior)",
    ["kind"],
)


class Progress:
    """Whether this process's stage makes progress: since when its current batch is landing
    (waiting out PostgreSQL or Kafka, or isolating a poison message), if it is."""

    def __init__(self) -> None:
        self._landing_since: float | None = None

    def landing(self) -> None:
        self._landing_since = time.monotonic()

    def landed(self) -> None:
        self._landing_since = None

    def stalled_s(self) -> float:
        since = self._landing_since
        return 0.0 if since is None else time.monotonic() - since


PROGRESS = Progress()


class LagCollector(Collector):
    """Consumer lag read at scrape time (offsets in PostgreSQL vs Kafka high watermarks)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Nothing to describe up front: without this, registering the collector collects
        once, and a processor started while Kafka restarts died right there (fault suite)."""
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from stream_processors.lag import lag_rows

        labels = ["consumergroup", "topic", "partition"]
        lag = GaugeMetricFamily(
            "kafka_consumergroup_lag", "Messages not yet committed", labels=labels
        )
        seconds = GaugeMetricFamily(
            "kafka_consumergroup_lag_seconds",
            "Age of the oldest message not yet committed",
            labels=labels,
        )
        try:
            rows = lag_rows(self.settings)
        except KafkaException as exc:  # Kafka away: no lag figures this scrape, not a failure
            log.warning("lag not collected: %s", type(exc).__name__)
            rows = []
        for row in rows:
            values = [row.group, row.topic, str(row.partition)]
            lag.add_metric(values, row.lag)
            if row.lag_seconds is not None:
                seconds.add_metric(values, row.lag_seconds)
        yield lag
        yield seconds


def observe_batch(
    stage: str, started: float, outcomes: dict[str, int], raw_timestamps_ms: list[int]
) -> None:
    now = time.time()
    seconds = time.monotonic() - started
    BATCH_SECONDS.labels(stage).observe(seconds)
    for outcome, count in outcomes.items():
        EVENTS.labels(stage, outcome).inc(count)
    latencies = [max(now - stamp / 1000, 0.0) for stamp in raw_timestamps_ms]
    observe = LATENCY.labels(stage).observe
    for latency in latencies:
        observe(latency)
    LAST_COMMIT.labels(stage).set(now)
    STATS.record(sum(outcomes.values()), seconds, latencies)


def serve(app: faust.App, settings: Settings, stage: str) -> None:
    """Add /metrics and /health to the app's web server."""
    REGISTRY.register(LagCollector(settings))
    serve_status(app, settings, stage)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body = await asyncio.get_running_loop().run_in_executor(None, generate_latest)
        return web.bytes(body, content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        """200 while the stage makes progress; 503 once one batch has been landing for
        ``processor.stalled_after_s`` (PostgreSQL or Kafka away, or a poison message)."""
        last = LAST_COMMIT.labels(stage)._value.get()
        stalled = PROGRESS.stalled_s()
        ok = stalled < settings.processor.stalled_after_s
        return web.json(
            {
                "status": "ok" if ok else "stalled",
                "stage": stage,
                "last_commit_age_s": round(time.time() - last, 1) if last else None,
                "batch_landing_s": round(stalled, 1),
            },
            status=200 if ok else 503,
        )

    del metrics, health  # registered with the app by the decorators
