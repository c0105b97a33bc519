"""The pseudonymise agent: raw topic -> pure stage -> pseudonymised / dead-letter topics,
then the ledger and offsets in PostgreSQL in one transaction per batch.

Order of effects per batch: forward every result, then (as the batch's landing, in the
background while the next batch is taken and computed: ``stream_processors.landing``) wait for
Kafka's acknowledgements and commit the ledger and offsets. A crash in between replays the
batch: the ledger ignores the repeats (keyed by position) and the resolver ignores repeated
event ids.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import faust

from core.errors import ConfigurationError
from core.settings import Settings
from core.vocabulary import REPLAYED_FROM
from schemas.catalogue import catalogue
from schemas.registry import codec_for
from sink import key_state
from sink.connection import Conn, Durable
from sink.ledger import write_ledger
from sink.rows import LedgerEntry, Outcome
from sink.sources import own_topic_sources, read_register
from stream_processors import key_versions
from stream_processors.app import exit_on_failure, make_app
from stream_processors.isolate import write_isolating
from stream_processors.key_versions import KeyVersions, made_text
from stream_processors.landing import landing
from stream_processors.lookups import prepare_lookups
from stream_processors.messages import RawMessage, kafka_timestamp_ms, next_offsets
from stream_processors.metrics import observe_batch, serve
from stream_processors.output import BatchProducer
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keyfiles import load_keyring
from stream_processors.pseudonymise.rules import rules_from
from stream_processors.pseudonymise.sealing import data_keys, position_of, seal
from stream_processors.pseudonymise.sources import Register
from stream_processors.pseudonymise.stage import Pseudonymiser, Result

log = logging.getLogger(__name__)
SHRED_EVERY_S = 3600.0
WITHHELD = "withheld: no consent to linkage"


def _message(event: faust.EventT[bytes]) -> RawMessage:
    msg = event.message
    stamp = kafka_timestamp_ms(msg.timestamp)
    replayed = replayed_from(msg.headers)
    return RawMessage(msg.topic, msg.partition, msg.offset, event.value, stamp, replayed)


def replayed_from(headers: Any) -> str | None:
    """The ``replayed-from`` header (``earlylink deadletter replay``), if the message has one
    (faust gives headers as a list of pairs or a mapping); at most 200 characters of it."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == REPLAYED_FROM and value is not None:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            return text[:200]
    return None


class PseudonymiseBatches:
    """Per batch: the pure stage and the queueing of its output (``forward``), then Kafka's
    acknowledgements and the ledger and offsets in one transaction (``land``)."""

    def __init__(self, settings: Settings, group: str) -> None:
        keyring = load_keyring(settings)
        self.sealing = data_keys(settings.deadletter_key_dir, keyring)
        self.codec = codec_for(settings)
        self.patience_s = settings.processor.wait_for_services_s
        self.stage = Pseudonymiser(
            catalogue(), keyring, Encoder(keyring), rules_from(settings.linkage), codec=self.codec
        )
        self.group = group
        self.pseudo_topic = settings.kafka.topic("pseudonymised")
        self.dead_topic = settings.kafka.topic("deadletter")
        self.db = Durable(settings.database_dsn, "pseudonymise")
        # its own connection: the register is read while the previous batch is landing on
        # ``db`` (stream_processors.landing), and two transactions cannot share one
        self.register_db = Durable(settings.database_dsn, "pseudonymise register")
        self.out = BatchProducer(settings.kafka)
        self.sources = settings.sources
        self.kafka = settings.kafka
        self.settings = settings
        self._confirmed: tuple[int, ...] | None = None  # the versions last confirmed
        self._register_read_at = -float("inf")
        self._shredded_at = -float("inf")

    def shred_expired(self) -> None:
        """Data keys of days past the dead-letter retention shredded (at most hourly): their
        dead letters become unreadable even where copies of the topic outlive it."""
        if time.monotonic() - self._shredded_at < SHRED_EVERY_S:
            return
        keep = dt.timedelta(days=self.kafka.deadletter_retention_days)
        gone = self.sealing.shred((dt.datetime.now(dt.UTC) - keep).date())
        if gone:
            log.info("shredded the dead-letter keys of %d day(s) past retention", len(gone))
        self._shredded_at = time.monotonic()

    async def refresh_sources(self) -> None:
        """Read the register of sources again when it is older than ``sources.refresh_s``."""
        if time.monotonic() - self._register_read_at < self.sources.refresh_s:
            return
        rows = await self.register_db.run(read_register)
        self.stage.sources = Register(
            rows.enabled,
            rows.disabled,
            self.sources.require_registered,
            {self.kafka.topic(f"raw.{name}"): name for name in rows.own_topic},
        )
        self._register_read_at = time.monotonic()

    async def refresh_key_versions(self) -> None:
        """The key versions to make tokens under, read before every batch (a rotation moves
        them while the stream runs); a version without a secret here stops the processor
        (its offsets unmoved) rather than make tokens the resolver cannot use."""

        async def read(conn: Conn) -> KeyVersions:
            async with conn.transaction():
                return await key_versions.read(conn)

        wanted = (await self.register_db.run(read)).made
        if wanted == self.stage.versions:
            return
        keyring = self.stage.keyring
        if any(v not in keyring.secrets for v in wanted):  # made since this process started
            keyring = load_keyring(self.settings)
            missing = [v for v in wanted if v not in keyring.secrets]
            if missing:
                raise ConfigurationError(
                    f"the store's key versions are {made_text(wanted)} but this pseudonymiser"
                    f" has no secret for version {made_text(tuple(missing))}: copy its key file"
                    f" (master-v{missing[0]}.key) to {self.settings.key_dir}"
                )
            self.stage = replace(self.stage, keyring=keyring, encoder=Encoder(keyring))
        log.warning("making tokens under key versions %s from now", made_text(wanted))
        self.stage.versions = wanted

    async def confirm_key_versions(self) -> None:
        """After a batch has landed: the versions it was made under, for ``keys rotate``
        (every earlier batch's output is in Kafka by then)."""
        versions = self.stage.versions
        if versions == self._confirmed:
            return

        async def write(conn: Conn) -> None:
            async with conn.transaction():
                await key_state.confirm(conn, key_versions.PSEUDONYMISER, made_text(versions))

        await self.db.run(write)
        self._confirmed = versions

    async def prepare(self, batch: Sequence[RawMessage]) -> None:
        """Schema ids new to this process looked up (the stage itself never waits)."""
        await prepare_lookups(self.codec, batch, self.patience_s)

    def forward(
        self, events: Sequence[faust.EventT[bytes]], batch: list[RawMessage]
    ) -> list[Result]:
        """The pure stage over the batch, each result queued for its topic."""
        now = dt.datetime.now(dt.UTC)
        results = [self.stage.process(m, now) for m in batch]
        for event, message, result in zip(events, batch, results, strict=True):
            if result.entry.outcome is Outcome.DEAD_LETTERED and result.withheld:
                # no consent to linkage: the reason and position only, no key, no record
                withheld = {**result.details, "payload": WITHHELD}
                self.dead_letter(None, replace(message, value=b""), withheld)
            elif result.entry.outcome is Outcome.DEAD_LETTERED:
                self.dead_letter(event.key, message, result.details)
            elif result.value is not None:
                self.out.send(self.pseudo_topic, result.key, result.value)
        return results

    def dead_letter(self, key: bytes | None, message: RawMessage, details: dict[str, str]) -> None:
        """The raw message and its key, sealed under today's data key, to the dead-letter topic
        with its reason and position in clear (``stream_processors/pseudonymise/sealing.py``)."""
        headers = {
            **details,
            "source-topic": message.topic,
            "source-partition": str(message.partition),
            "source-offset": str(message.offset),
        }
        value = message.value
        if value or key:
            day = dt.datetime.now(dt.UTC).date().isoformat()
            value = seal(self.sealing, key, value, position_of(message), day)
            headers["sealed"] = day
        self.out.send(self.dead_topic, None, value, [(k, v.encode()) for k, v in headers.items()])

    async def land(self, batch: list[RawMessage], results: list[Result], started: float) -> None:
        """Kafka has every output of the batch, then the ledger and offsets are committed
        (a ledger row that cannot be written is quarantined: ``stream_processors.isolate``)."""
        await self.out.flush()
        entries = {
            (m.topic, m.partition, m.offset): (r.entry, m.timestamp_ms)
            for r, m in zip(results, batch, strict=True)
        }

        async def write(part: Sequence[RawMessage]) -> None:
            rows = [entries[(m.topic, m.partition, m.offset)] for m in part]
            offsets = next_offsets(part)
            await self.db.run(lambda conn: write_ledger(conn, self.group, rows, offsets))

        await write_isolating("pseudonymise", batch, write, self.quarantine)
        await self.confirm_key_versions()
        counts: Counter[str] = Counter(r.entry.outcome.value for r in results)
        observe_batch(
            "pseudonymise", started, dict(counts), [m.timestamp_ms for m in batch if m.timestamp_ms]
        )
        log.info("batch of %d: %s", len(batch), dict(counts))

    async def quarantine(self, message: RawMessage, reason: str) -> None:
        """A message whose ledger row cannot be written: to the dead-letter topic, and a ledger
        row with its position and reason only."""
        details = {"reason": Outcome.QUARANTINED.value, "detail": reason}
        if self.stage.withheld(message):  # no consent to linkage: no record in the copy
            details["payload"] = WITHHELD
            message = replace(message, value=b"")
        self.dead_letter(None, message, details)
        await self.out.flush()
        entry = LedgerEntry(
            message.topic,
            message.partition,
            message.offset,
            Outcome.QUARANTINED,
            reason,
            replayed_from=message.replayed_from,
        )
        offsets = next_offsets([message])
        await self.db.run(lambda conn: write_ledger(conn, self.group, [(entry, None)], offsets))


def build(settings: Settings) -> faust.App:
    """The faust app with the pseudonymise agent attached."""
    group = settings.kafka.group("pseudonymise")
    # the contracts registered (waiting for the registry) before the worker joins its group
    codec_for(settings, wait_s=settings.processor.wait_for_services_s)
    app = make_app(settings, group, "pseudonymise")
    serve(app, settings, "pseudonymise")
    # the shared raw topic, and the own topics of the sources bound to one (at start: a source
    # bound later is read after a restart)
    own = [settings.kafka.topic(f"raw.{name}") for name in own_topic_sources(settings.database_dsn)]
    raw = app.topic(settings.kafka.topic("raw"), *own, value_type=bytes, key_type=bytes)

    @app.agent(raw, concurrency=1, name="pseudonymise")
    async def pseudonymise(stream: faust.StreamT[bytes]) -> None:
        batches = PseudonymiseBatches(settings, group)
        batched = cast(faust.Stream[bytes], stream).take_events(
            settings.processor.batch_size, within=settings.processor.batch_within_s
        )
        async with landing("pseudonymise", app) as lands:
            async for events in batched:
                batch = [_message(e) for e in events]
                with exit_on_failure("pseudonymise", batch):
                    started = time.monotonic()
                    await batches.refresh_sources()
                    await batches.refresh_key_versions()
                    batches.shred_expired()
                    await batches.prepare(batch)
                    results = batches.forward(events, batch)
                    await lands.hand_over(batches.land(batch, results, started), batch)

    return app


def run(settings: Settings, loglevel: str) -> None:
    from stream_processors.app import run_worker

    run_worker(build(settings), loglevel, settings.processor.gc_thresholds)
