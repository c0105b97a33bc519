"""The resolve agent: pseudonymised topic -> identity graph in PostgreSQL, one transaction per
micro-batch (records, blocking index, edges, persons, memberships, aliases, history, relations,
contacts, outcomes, audit, offsets), then merges and splits on the identity-change topic.

A batch is decoded as it arrives, in turns (``stream_processors.turns``) with the landing of
the batch before it; its transaction runs as the batch's landing (``stream_processors.landing``):
after the previous batch's, while the next one is taken and decoded.

The agent decodes, calls the pure resolution library and writes through ``sink.graph``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Generator, Iterable, Sequence
from functools import partial
from typing import Any, cast

import faust

from core.settings import Settings
from schemas.catalogue import Catalogue, catalogue
from schemas.registry import codec_for
from schemas.tokens import uneven_sets
from schemas.wire import DecodeError, decode, encode
from sink import graph
from sink.connection import Durable
from sink.offsets import save_offsets
from sink.rows import BlockKey, HistoryRow, QuarantineRow
from stream_processors import key_versions
from stream_processors.app import exit_on_failure, make_app
from stream_processors.isolate import write_isolating
from stream_processors.landing import landing
from stream_processors.lookups import prepare_lookups
from stream_processors.messages import RawMessage, next_offsets
from stream_processors.metrics import STORE_RECORDS, observe_batch, serve
from stream_processors.outbox import publish_pending
from stream_processors.output import BatchProducer
from stream_processors.pseudonymise.checks import source_problem
from stream_processors.resolve import terms
from stream_processors.resolve.batch import (
    Incoming,
    Prepared,
    preparing,
    recluster,
    score_changed,
    sort_batch,
)
from stream_processors.resolve.blocking import crossed_cap, keys_of, pairs_in_blocks
from stream_processors.resolve.cache import RecordCache
from stream_processors.resolve.cluster import Assignment
from stream_processors.resolve.model import Model, configured_model
from stream_processors.resolve.plan import plan_activity, plan_batch, under_key_versions
from stream_processors.resolve.records import LinkRecord, from_pseudo
from stream_processors.resolve.score import relinked
from stream_processors.turns import in_turns, run_through

log = logging.getLogger(__name__)
PSEUDO_TYPES = ("PseudoRecord", "PseudoActivity")
BLOCKING_STATE = "blocking_rules"
MODEL_STATE = "resolver_model"  # the model the resolver runs: ``earlylink relink`` must match it
QUARANTINE_STATE = "quarantine_read_with"  # the catalogue that read every unread row
RELINK_STATE = "relink"  # how far ``earlylink relink`` got, with which model
TURN_S = 0.001  # decoding gives the landing batch a turn this often (``decode_in_turns``)
SIZE_EVERY = 200  # batches between counts of the store's active records (``check_size``)


class Resolver:
    """One batch at a time: the steps of resolution with the reads and writes between them."""

    def __init__(self, settings: Settings, contracts: Catalogue, model: Model) -> None:
        self.settings = settings
        self.contracts = contracts
        self.model = model
        self.group = settings.kafka.group("resolve")
        self._cache = RecordCache(settings.processor.record_cache)
        self.codec = codec_for(settings)
        self._prepared = False  # the stored index checked, the model recorded
        self.versions = key_versions.KeyVersions()  # as read under the lock, every batch
        self._warned_size = False  # ``check_size`` warns once a process
        self._landed = 0  # batches landed by this worker (``size_due``)

    async def prepare(self, conn: graph.Conn) -> None:
        """Before the first batch, under the graph lock: rebuild the blocking index if it was
        made with other rules, and record the model this resolver runs."""
        await graph.lock_graph(conn)
        await self.take_key_versions(conn)
        await self.reindex_if_stale(conn)
        await self._record_model(conn)
        self._prepared = True

    async def take_key_versions(self, conn: graph.Conn) -> None:
        """The key versions the store links under now (under the graph lock: a rotation's
        switch happens between batches). A new working version empties the record cache and
        checks the blocking index (the switch rebuilt it in its own transaction)."""
        versions = await key_versions.read(conn)
        moved = versions.working != self.versions.working
        self.versions = versions
        if moved:
            self._cache = RecordCache(self.settings.processor.record_cache)
            if self._prepared:
                await self.reindex_if_stale(conn)

    @property
    def blocking_state(self) -> str:
        """What the stored blocking index must have been built with: the rules, and the key
        version of the tokens its keys come from (from version 2 on)."""
        rules, working = self.model.blocking_version, self.versions.working
        return rules if working == 1 else f"{rules}/keys-v{working}"

    async def start(self, conn: graph.Conn) -> None:
        """When the worker starts, in a transaction of its own and without the graph lock (a
        batch or a relink may hold it): record the model it runs, for ``earlylink relink``,
        and check the store's size against it."""
        async with conn.transaction():
            await self._record_model(conn)
            read = await self.attribute_quarantined(conn)
        if read:
            log.info("%d quarantined messages readable now: their event, source and type", read)
        await self.check_size(conn)

    async def attribute_quarantined(self, conn: graph.Conn, chunk: int = 1_000) -> int:
        """Messages an older resolver set aside without reading them (a contract it did not
        know) get the event, source and type this one can read, so that the reconciliation
        counts them as quarantined rather than as gone on to linkage; returns how many. Every
        such row is read, ``chunk`` at a time, once per catalogue of contracts: what this
        catalogue could not read stays unreadable until the catalogue changes."""
        if await graph.state(conn, QUARANTINE_STATE) == self.contracts.digest:
            return 0
        read, after = 0, None
        while rows := await graph.unattributed_quarantine(conn, after, chunk):
            found = []
            for row in rows:
                message = RawMessage(row.topic, row.kafka_partition, row.kafka_offset, row.payload)
                attributed = self._quarantine_row(message, row.reason)
                if attributed.event_id is not None:
                    found.append(attributed)
            await graph.attribute_quarantine(conn, found)
            read += len(found)
            after = (rows[-1].topic, rows[-1].kafka_partition, rows[-1].kafka_offset)
            if len(rows) < chunk:
                break
        await graph.set_state(conn, QUARANTINE_STATE, self.contracts.digest)
        return read

    def size_due(self) -> bool:
        """Count one more batch landed; whether it is time to ``check_size`` again."""
        self._landed += 1
        return self._landed % SIZE_EVERY == 0

    async def check_size(self, conn: graph.Conn) -> int:
        """Count the store's active records (the ``earlylink_store_records`` gauge) and warn,
        once a process, when the store outgrew the model (``Model.outgrown``). In a
        transaction of its own: the worker's connection is not in autocommit, and a query
        outside one would leave it open, making every later batch a savepoint in it."""
        async with conn.transaction():
            held = await graph.active_count(conn)
        STORE_RECORDS.labels("held").set(held)
        STORE_RECORDS.labels("expected").set(self.model.live_records)
        warning = self.model.outgrown(held)
        if warning is not None and not self._warned_size:
            log.warning(warning)
            self._warned_size = True
        return held

    async def _record_model(self, conn: graph.Conn) -> None:
        if await graph.state(conn, MODEL_STATE) != self.model.version:
            await graph.set_state(conn, MODEL_STATE, self.model.version)
            await graph.set_state(conn, RELINK_STATE, "")  # a relink done before is undone

    async def reindex_if_stale(self, conn: graph.Conn, chunk: int = 5_000) -> int:
        """Rebuild every active record's blocking keys and counted name tokens (``terms``) when
        the stored index was built with other rules (or, before format 2, by the
        pseudonymiser): otherwise new records would never meet stored ones. Under the graph
        lock, in the caller's transaction; returns the records re-indexed. Edges stay as
        scored (re-scoring them is a relink)."""
        wanted = self.blocking_state
        if await graph.state(conn, BLOCKING_STATE) == wanted:
            return 0
        done, after = 0, ""
        while rows := await graph.active_after(conn, after, chunk):
            records = {r.record_key: self.link_record(r.payload) for r in rows}
            for row in rows:
                self._cache.put(row.record_key, row.record_version, records[row.record_key])
            rules, kinds = self.model.blocking, self.model.term_kinds
            await graph.replace_block_keys(
                conn,
                list(records),
                [BlockKey(t, k) for k, r in records.items() for t in keys_of(r, rules)],
            )
            await graph.replace_block_keys(
                conn,
                list(records),
                [
                    BlockKey(t, k)
                    for k, r in records.items()
                    for t in terms.term_keys(r, kinds).values()
                ],
                graph.TERMS,
            )
            done, after = done + len(rows), rows[-1].record_key
        await graph.recount_terms(conn)
        await graph.set_state(conn, BLOCKING_STATE, wanted)
        if done:
            log.warning("blocking index rebuilt for %d records (rules %s)", done, wanted)
        return done

    def decode_all(self, batch: Sequence[RawMessage]) -> Incoming:
        """The batch decoded, sorted (``sort_batch``) and prepared for linkage (``prepare``)."""
        return run_through(self._decoding(batch))

    async def decode_in_turns(self, batch: Sequence[RawMessage]) -> Incoming:
        """``decode_all``, giving the event loop a turn at least every ``TURN_S``: the batch
        before this one lands meanwhile, and each of its statements goes on as soon as it is
        answered rather than after the whole batch is decoded (``in_turns``)."""
        return await in_turns(self._decoding(batch), TURN_S)

    def _decoding(self, batch: Sequence[RawMessage]) -> Generator[None, None, Incoming]:
        """``decode_all`` step by step: it yields after each message and each record."""
        decoded = []
        undecodable = []
        where: dict[int, tuple[str, int, int]] = {}  # id of a decoded record -> its message
        for message in batch:
            yield
            position = (message.topic, message.partition, message.offset)
            try:
                event = self.codec.decode(message.value)
            except DecodeError as exc:
                log.warning(
                    "undecodable pseudonymised message at %s[%d]@%d: %s",
                    *position,
                    exc.reason.value,
                )
                undecodable.append((position, exc.reason.value))
                continue
            if event.event_type == "PseudoRecord" and uneven_sets(event.record):
                undecodable.append((position, "UNEVEN_TOKEN_SETS"))
            elif event.event_type in PSEUDO_TYPES:  # stored single-object: no registry to read it
                payload = self.codec.as_single_object(message.value)
                decoded.append((event.event_type, event.record, payload))
                where[id(event.record)] = position
            else:
                undecodable.append((position, "FOREIGN_SCHEMA"))
        incoming = sort_batch(decoded)
        incoming.undecodable = undecodable
        incoming.positions = {k: where[id(r)] for k, r in incoming.persons.items()}
        incoming.prepared = yield from preparing(
            incoming, self.versions.working, self.model.blocking
        )
        return incoming

    async def load(self, conn: graph.Conn, keys: Iterable[str]) -> dict[str, LinkRecord]:
        """Active records by key, decoding only those not cached at their current version."""
        versions = await graph.active_versions(conn, keys)
        found: dict[str, LinkRecord] = {}
        for key, version in versions.items():
            cached = self._cache.get(key, version)
            if cached is not None:
                found[key] = cached
        missing = [k for k in versions if k not in found]
        for key, stored in (await graph.payloads(conn, missing)).items():
            found[key] = self.link_record(stored.payload)
            self._cache.put(key, stored.record_version, found[key])
        return found

    def link_record(self, payload: bytes) -> LinkRecord:
        return from_pseudo(decode(payload, self.contracts).record, self.versions.working)

    async def commit(
        self, conn: graph.Conn, *, batch: Sequence[RawMessage], incoming: Incoming
    ) -> Assignment:
        """The batch (already decoded as ``incoming``) and its offsets in one transaction."""
        async with conn.transaction():
            assignment = await self.apply(conn, batch, incoming)
            await save_offsets(conn, self.group, next_offsets(batch))
        return assignment

    async def quarantine(self, conn: graph.Conn, *, message: RawMessage, reason: str) -> None:
        """Set one message aside (with its position and reason) and move past it."""
        async with conn.transaction():
            await graph.quarantine(conn, [self._quarantine_row(message, reason)])
            await save_offsets(conn, self.group, next_offsets([message]))

    def _quarantine_row(self, message: RawMessage, reason: str) -> QuarantineRow:
        envelope: dict[str, Any] = {}
        event_type = None
        with contextlib.suppress(DecodeError):
            event = self.codec.decode(message.value)
            envelope, event_type = event.record.get("envelope") or {}, event.event_type
        source = envelope.get("source_system")
        return QuarantineRow(
            message.topic,
            message.partition,
            message.offset,
            envelope.get("event_id"),
            source if source is not None and source_problem(source) is None else None,
            event_type,
            reason,
            message.value,
        )

    async def apply(
        self, conn: graph.Conn, batch: Sequence[RawMessage], incoming: Incoming | None = None
    ) -> Assignment:
        """Resolve the batch into the graph (inside the caller's transaction); the new
        assignment of the components it touched."""
        if incoming is None:
            incoming = self.decode_all(batch)
        await graph.lock_graph(conn)
        if not self._prepared:
            await self.prepare(conn)
        else:
            await self.take_key_versions(conn)
        await self._quarantine(conn, batch, incoming)
        stored = await graph.stored_versions(conn, list(incoming.persons))
        plan = plan_batch(incoming, stored, self.versions.working)
        await graph.upsert_records(conn, plan.records)
        await graph.mark_records(conn, plan.withdrawals, "SUPPRESSED", "WITHDRAWN")
        await graph.mark_records(conn, plan.retractions, "RETRACTED", "RETRACTED")
        linked = plan.linked(incoming.prepared)
        for key, record in linked.items():
            self._cache.put(key, plan.active[key]["record_version"], record)
        redo = await self._index_and_score(conn, plan.changed, linked, incoming.prepared)
        assignment = await self._recluster(conn, sorted(set(plan.changed) | set(redo)))
        activity = plan_activity(incoming, plan, set(stored))
        await graph.write_relations(conn, activity.relations_of, activity.relations)
        await graph.write_contacts(conn, activity.contacts)
        await graph.write_outcomes(conn, activity.outcomes)
        late = await graph.not_linkable(conn, activity.touched)
        await graph.purge_activity(conn, activity.purge(plan.ended, late))
        await graph.audit(conn, plan.audit)
        return assignment

    async def _quarantine(
        self, conn: graph.Conn, batch: Sequence[RawMessage], incoming: Incoming
    ) -> None:
        """Messages that are no pseudonymised event, and person records made only under a key
        version the store no longer links under, to the quarantine with their reason."""
        made = self.versions.made
        retired = under_key_versions(
            incoming, made, lambda r: encode(self.contracts.latest("PseudoRecord"), r)
        )
        why = f"KEY_VERSION_RETIRED: the store links under key version {made[0]}"
        reasons = incoming.undecodable + [(incoming.positions[k], why) for k in retired]
        if reasons:
            values = {(m.topic, m.partition, m.offset): m for m in batch}
            await graph.quarantine(
                conn, [self._quarantine_row(values[pos], reason) for pos, reason in reasons]
            )

    async def relink_after(self, conn: graph.Conn, after: str, size: int) -> list[str]:
        """Re-index, re-score and re-cluster the next ``size`` active records by key after
        ``after`` with this resolver's model, inside the caller's transaction (one step of
        ``earlylink relink``); returns their keys, none when every record is done."""
        await graph.lock_graph(conn)
        if not self._prepared:
            await self.prepare(conn)
        else:
            await self.take_key_versions(conn)
        linked = {}
        for row in await graph.active_after(conn, after, size):
            linked[row.record_key] = self.link_record(row.payload)
            self._cache.put(row.record_key, row.record_version, linked[row.record_key])
        keys = list(linked)
        if keys:
            redo = await self._index_and_score(conn, keys, linked)
            await self._recluster(conn, sorted(set(keys) | set(redo)))
        return keys

    async def _index_and_score(
        self,
        conn: graph.Conn,
        changed: list[str],
        linked: dict[str, LinkRecord],
        prepared: Prepared | None = None,
    ) -> list[str]:
        """Index and score the changed records, and redo the records of any blocking key that
        crossed the cap (``blocking.crossed_cap``); when the model weighs names by the store's
        counts, also those of a name token whose count went down a bucket, and score again
        the links between holders of one that went up (``terms.Moved``). Returns the keys of
        the other records whose links were scored again. ``prepared``: blocking keys worked
        out before the lock, where they are of the records linked now."""
        cap = self.settings.processor.block_cap
        keys = {k: self._keys(k, r, prepared) for k, r in linked.items()}
        found, moved = await self._index(conn, changed, keys, cap)
        counted = await self._count_terms(conn, changed, linked)
        moved_terms = counted.moved  # none when the model keeps no counts (it counts no kinds)
        again = set(await graph.holders(conn, moved)) if moved else set()
        if moved_terms.down:
            held = await graph.term_holders(conn, moved_terms.down)
            again |= {k for keys in held.values() for k in keys}
        redo = sorted(again - set(changed))
        scored = dict(linked)
        if redo:
            redone = await self.load(conn, redo)
            scored.update(redone)
            keys.update({k: keys_of(r, self.model.blocking) for k, r in redone.items()})
            found = await graph.block_members(
                conn, sorted({t for ts in keys.values() for t in ts}), cap
            )
        pairs = pairs_in_blocks(keys, found)
        pool = dict(scored)
        pool.update(await self.load(conn, {k for pair in pairs for k in pair} - set(scored)))
        live = await self._live_terms(conn, scored, counted.now)
        edges = score_changed(scored, pool, pairs, self.model, live)
        await graph.replace_edges(conn, changed + redo, edges, self.model.version)
        reweighed = await self._reweigh_links(conn, moved_terms.up, counted, set(scored))
        return sorted(set(redo) | set(reweighed))

    def _keys(self, key: str, record: LinkRecord, prepared: Prepared | None) -> tuple[bytes, ...]:
        if prepared is not None and prepared.record(key, self.versions.working) is record:
            return prepared.keys[key]
        return keys_of(record, self.model.blocking)

    async def _reweigh_links(
        self, conn: graph.Conn, tokens: list[bytes], counted: terms.Recount, done: set[str]
    ) -> list[str]:
        """The stored links between holders of ``tokens`` (name tokens that weigh less now)
        that were not scored whole in this batch (``done``), with their new weights
        (``score.relinked``; those now under the threshold go). A pair of them not linked
        before weighs less still: it stays unlinked. Returns the records to cluster again:
        those of a link that went, and those whose person's clustering can depend on how its
        links weigh (``graph.open_records``); any other person clusters as it did."""
        if not tokens:
            return []
        holding: dict[str, set[bytes]] = {}
        for token, keys in (await graph.term_holders(conn, tokens)).items():
            for key in keys:
                holding.setdefault(key, set()).add(token)

        def wanted(a: str, b: str) -> bool:  # not scored whole here, and sharing such a token
            return a not in done and b not in done and not holding[a].isdisjoint(holding[b])

        links = await graph.links_within(conn, sorted(holding), wanted)
        again = relinked(links, holding, counted, self.model)
        if again.pairs:
            await graph.replace_pair_edges(conn, again.pairs, again.kept, self.model.version)
        held = sorted({k for e in again.kept for k in (e.a, e.b)} - again.gone)
        return sorted(again.gone | set(await graph.open_records(conn, held) if held else ()))

    async def _index(
        self, conn: graph.Conn, changed: list[str], keys: dict[str, tuple[bytes, ...]], cap: int
    ) -> tuple[dict[bytes, tuple[int, list[str] | None]], list[bytes]]:
        """The changed records' blocking keys replaced: the blocks they are in now, and the
        keys that crossed the cap."""
        old = await graph.block_tokens_of(conn, changed)
        await graph.replace_block_keys(
            conn, changed, [BlockKey(t, k) for k, ts in keys.items() for t in ts]
        )
        added = Counter(t for ts in keys.values() for t in ts)
        found = await graph.block_members(conn, sorted(set(old) | set(added)), cap)
        sizes = {t: n for t, (n, _) in found.items()}
        return found, crossed_cap(sizes, Counter(old), added, cap)

    async def _count_terms(
        self, conn: graph.Conn, changed: list[str], linked: dict[str, LinkRecord]
    ) -> terms.Recount:
        """The changed records' counted name tokens replaced (``terms``): the counts of the
        tokens they held or hold, before and now."""
        if not self.model.term_kinds:
            return terms.Recount({}, {}, {})  # nothing counted (the index holds none either)
        kinds: dict[bytes, str] = {}
        rows = []
        for k, r in linked.items():
            for kind, key in terms.term_keys(r, self.model.term_kinds).items():
                kinds[key] = kind
                rows.append(BlockKey(key, k))
        gone, new = terms.changes(await graph.term_rows_of(conn, changed), rows)
        moved = terms.difference(gone, new)
        now = await graph.move_terms(conn, gone, new, moved)
        return terms.recount(now, moved, kinds)

    async def _live_terms(
        self, conn: graph.Conn, scored: dict[str, LinkRecord], counts: dict[bytes, int]
    ) -> terms.TermCounts | None:
        """The store's counts of the scored records' name tokens (any pair agreeing on one
        has a scored record holding it), for a model without a table of its own."""
        if not self.model.counts_terms:
            return None
        kinds = self.model.term_kinds
        wanted = {t for r in scored.values() for t in terms.term_keys(r, kinds).values()}
        missing = sorted(wanted - set(counts))
        held = {**counts, **(await graph.holder_counts(conn, missing) if missing else {})}
        return terms.live_counts(
            scored.values(), kinds, held, self.model.live_records, self.model.tf_min_u
        )

    async def _recluster(self, conn: graph.Conn, changed: list[str]) -> Assignment:
        keys = await graph.component(conn, changed)
        records = await self.load(conn, keys)
        edges = await graph.edges_among(conn, sorted(records))
        previous = await graph.memberships(conn, keys)
        assignment = recluster(records, edges, previous, twin_name_dice=self.model.twin_name_dice)
        fresh = sorted(set(assignment.persons) - set(previous.values()))
        clash = await graph.existing_persons(conn, fresh)
        if clash:  # a derived id already names a person outside this component: re-derive
            assignment = recluster(
                records, edges, previous, frozenset(clash), self.model.twin_name_dice
            )
        await graph.write_persons(
            conn, keys, assignment.persons, assignment.aliases, assignment.retired
        )
        history = [HistoryRow("MERGE", old, [new]) for old, new in assignment.merges]
        history += [HistoryRow("SPLIT", [old], new) for old, new in assignment.splits]
        history += [HistoryRow("RETIRE", [old], []) for old in assignment.retired]
        await graph.record_history(conn, history, self.model.version)
        return assignment


def build(settings: Settings) -> faust.App:
    model = configured_model(settings)
    codec_for(settings, wait_s=settings.processor.wait_for_services_s)  # contracts registered
    resolver = Resolver(settings, catalogue(), model)
    app = make_app(settings, resolver.group, "resolve")
    serve(app, settings, "resolve")
    source = app.topic(settings.kafka.topic("pseudonymised"), value_type=bytes, key_type=bytes)
    changes_topic = settings.kafka.topic("identity-changes")

    async def land(
        db: Durable, out: BatchProducer, batch: list[RawMessage], incoming: Incoming, started: float
    ) -> None:
        """The batch's transaction (a message that cannot be written is quarantined:
        ``stream_processors.isolate``), then its merges, splits and retirements from the
        outbox to the identity-change topic (``stream_processors.outbox``)."""

        async def write(part: Sequence[RawMessage]) -> Assignment:
            decoded = incoming if part is batch else resolver.decode_all(part)
            return await db.run(partial(resolver.commit, batch=part, incoming=decoded))

        async def quarantine(message: RawMessage, reason: str) -> None:
            await db.run(partial(resolver.quarantine, message=message, reason=reason))

        assignments = await write_isolating("resolve", batch, write, quarantine)
        observe_batch("resolve", started, {"RESOLVED": len(batch)}, incoming.raw_timestamps_ms)
        if resolver.size_due():
            await db.run(resolver.check_size)
        await publish_pending(db, out, changes_topic, resolver.codec)
        log.info(
            "batch of %d: %d persons touched, %d merges, %d splits",
            len(batch),
            sum(len(a.persons) for a in assignments),
            sum(len(a.merges) for a in assignments),
            sum(len(a.splits) for a in assignments),
        )

    @app.agent(source, concurrency=1, name="resolve")
    async def resolve(stream: faust.StreamT[bytes]) -> None:
        db = Durable(settings.database_dsn, "resolve")
        out = BatchProducer(settings.kafka)
        log.info("resolving with model %s", model.version)
        await db.run(resolver.start)  # ``earlylink relink`` sees the model before any batch
        patience = settings.processor.wait_for_services_s
        # a crash's unpublished changes
        left = await publish_pending(db, out, changes_topic, resolver.codec)
        if left:
            log.info("published %d identity changes committed before the last stop", left)
        batched = cast(faust.Stream[bytes], stream).take_events(
            settings.processor.batch_size, within=settings.processor.batch_within_s
        )
        async with landing("resolve", app) as lands:
            async for events in batched:
                batch = [
                    RawMessage(e.message.topic, e.message.partition, e.message.offset, e.value)
                    for e in events
                ]
                with exit_on_failure("resolve", batch):
                    started = time.monotonic()
                    await prepare_lookups(resolver.codec, batch, patience)
                    incoming = await resolver.decode_in_turns(batch)  # as the last batch lands
                    await lands.hand_over(land(db, out, batch, incoming, started), batch)

    return app


def run(settings: Settings, loglevel: str) -> None:
    from stream_processors.app import run_worker

    run_worker(build(settings), loglevel, settings.processor.gc_thresholds)
