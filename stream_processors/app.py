"""The faust application shared by earlylink's agents, configured from settings.

Pitfalls of faust-streaming 0.15 handled here: agents run with concurrency 1 (with more it can
commit past an in-flight message), exactly-once processing is not used (our sink is idempotent
and stores offsets itself), and batches come from ``stream.take_events`` (with offsets).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import ssl
import traceback
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import faust
from faust.types import TP

from core.settings import KafkaSettings, Settings
from sink.connection import Durable
from sink.offsets import stored_offsets
from stream_processors.fast_delivery import fast_wait_first
from stream_processors.messages import RawMessage

log = logging.getLogger(__name__)
EXIT_BATCH_FAILED = 70  # the worker's exit status when a batch fails for good


def broker_credentials(kafka: KafkaSettings) -> faust.types.auth.CredentialsT | None:
    """The faust (aiokafka) side of the TLS/SASL settings the confluent-kafka clients use."""
    protocol = kafka.security_protocol.upper()
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        cafile = str(kafka.ssl_ca_location) if kafka.ssl_ca_location else None
        context = ssl.create_default_context(cafile=cafile)
    if protocol.startswith("SASL"):
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context else None


WEB_PORT_OFFSET = {"pseudonymise": 0, "resolve": 1}


def remove_data_folders(settings: Settings) -> None:
    """The faust data folders of ``settings``' stages (a bench's or a test's, when it ends)."""
    for stage in WEB_PORT_OFFSET:
        shutil.rmtree(settings.processor_dir / settings.kafka.group(stage), ignore_errors=True)


def make_app(settings: Settings, app_id: str, stage: str) -> faust.App:
    """A faust app talking to the configured Kafka, with raw bytes in and out.

    Each stage serves its web endpoints on its own port (base port + the stage's offset).
    faust's data folder is ``<state dir>/processors/<app id>``, not its default of a folder in
    whatever directory the processor was started from."""
    kafka = settings.kafka
    folder = settings.processor_dir
    folder.mkdir(parents=True, exist_ok=True)  # faust makes the app's folder, not its parents
    app = ResumingApp(
        app_id,
        datadir=str(folder / "{conf.name}"),
        broker=f"kafka://{kafka.bootstrap}",
        broker_credentials=broker_credentials(kafka),
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        autodiscover=False,
        topic_disable_leader=True,
        topic_allow_declare=False,
        topic_partitions=kafka.partitions,
        consumer_auto_offset_reset="earliest",
        # aiokafka refreshes metadata every 5 minutes by default: a topic that was missing when
        # the worker subscribed (or gained partitions) would sit unread that long.
        consumer_metadata_max_age_ms=30_000,
        broker_session_timeout=10.0,  # a killed worker's partitions move on within seconds
        broker_heartbeat_interval=2.0,
        producer_acks=-1,
        web_enabled=True,
        web_port=settings.processor.web_port + WEB_PORT_OFFSET[stage],
        web_bind="127.0.0.1",
    )
    app.offsets_dsn = settings.database_dsn
    return app


class ResumingApp(faust.App):
    """A faust app whose worker resumes from the offsets stored in PostgreSQL with the writes
    (``stream_offsets``), not from Kafka's committed offsets.

    faust acks a batch's events when the agent moves on, and also when the agent is torn down
    mid-batch, and commits acked offsets on shutdown, so Kafka's offsets can run ahead of what
    was written. Wherever faust seeks to "the committed offsets" (after every rebalance), this
    app seeks to the stored ones instead, forwards or backwards.

    Its fetcher also hands messages over without faust's per-message race when the hand-over
    need not wait (``stream_processors.fast_delivery``), and it runs without faust's
    in-memory statistics sensor."""

    offsets_dsn: str = ""

    def on_init_dependencies(self) -> Any:
        """faust's services, less its in-memory ``Monitor`` sensor: it updates counters on
        every message in, event in and out and ack, for faust's own /stats pages, which
        earlylink does not serve (its metrics are Prometheus', ``stream_processors.metrics``)."""
        dependencies = super().on_init_dependencies()
        self.sensors.remove(self.monitor)
        return dependencies

    def _new_consumer(self) -> Any:
        consumer: Any = super()._new_consumer()
        kafka_committed = consumer.seek_to_committed
        group = self.conf.id
        db = Durable(self.offsets_dsn, "resume")  # waits out a PostgreSQL restart

        async def seek_to_committed() -> dict[TP, int]:
            positions = dict(await kafka_committed())
            stored = await db.run(partial(stored_offsets, group=group))
            positions = await seek_to_stored(consumer, positions, stored)
            log.info("resuming at the offsets stored with the writes (%d partitions)", len(stored))
            return positions

        consumer.seek_to_committed = seek_to_committed
        consumer.wait_first = fast_wait_first(consumer.wait_first, consumer.suspend_flow)
        return consumer


async def seek_to_stored(
    consumer: Any, positions: Mapping[TP, int], stored: Mapping[tuple[str, int], int]
) -> dict[TP, int]:
    """Each assigned partition whose stored offset is not where Kafka's committed one put it
    (``positions``) moves there; returns the positions after. One ``seek_wait``, which runs on
    the consumer's own thread: faust's ``seek`` calls aiokafka's in the caller's thread while
    the fetcher's thread may be draining that partition, and a rebalance then crashes the
    worker (``KeyError`` in aiokafka's ``Fetcher.fetched_records``, robinhood/aiokafka#19)."""
    moves = {}
    for tp in consumer.assignment():
        offset = stored.get((tp.topic, tp.partition))
        if offset is not None and positions.get(tp) != offset:
            moves[tp] = offset
    if moves:
        await consumer.seek_wait(moves)
    return {**positions, **moves}


@contextlib.contextmanager
def exit_on_failure(stage: str, batch: Sequence[RawMessage]) -> Iterator[None]:
    """Crash-only batches: an unexpected error ends the process at once, before faust can ack
    the batch or commit past it; a restart replays the batch from the stored offsets."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 (any failure: exit before faust acks the batch)
        # the error's type and frames only: its message could quote a field's value
        frames = "".join(traceback.format_tb(exc.__traceback__))
        first, last = batch[0], batch[-1]
        log.critical(
            "%s: batch of %d, %s[%d]@%d to %s[%d]@%d, failed (%s); exiting to replay it\n%s",
            stage,
            len(batch),
            first.topic,
            first.partition,
            first.offset,
            last.topic,
            last.partition,
            last.offset,
            type(exc).__name__,
            frames,
        )
        logging.shutdown()
        os._exit(EXIT_BATCH_FAILED)


def tune_gc(thresholds: tuple[int, int, int]) -> tuple[int, int, int]:
    """Set the cycle collector's thresholds for a processor (see ``ProcessorSettings``);
    returns the previous ones."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    return previous


def run_worker(
    app: faust.App, loglevel: str = "info", gc_thresholds: tuple[int, int, int] | None = None
) -> None:
    """Run the app's worker in this process until it is stopped (SIGTERM/SIGINT)."""
    from faust.worker import Worker

    if gc_thresholds is not None:
        tune_gc(gc_thresholds)

    Worker(app, loglevel=loglevel, quiet=True).execute_from_commandline()
