"""``earlylink keys rotate``: move the store to the next key version while the stream runs.

The phases (``stream_processors/key_versions.py`` has the state they move through):

1. **Begin**: the next version's secret (made if missing) and the state ``next=n+1``: the
   pseudonymiser makes every token and encoding under both versions from its next batch.
2. **Wait** until the pseudonymiser has confirmed both (or has nothing to read), then until
   the resolver has read everything published before that: from then on no record made only
   under n is on its way.
3. **Model**: a model with term frequencies gets each frequency under n+1 too (its tokens
   are keyed); the file is rewritten and the resolver must be restarted on it.
4. **Carry**: each stored record without n+1 gets its n+1 tokens and encodings by chaining,
   a chunk per transaction under the graph lock (the resolver's batches run between chunks).
5. **Switch**, one transaction under the graph lock: the records stored since are carried
   too, the working version becomes n+1 and the blocking index is rebuilt from its tokens.
6. **Clean**: the n tokens and encodings are stripped from the stored records, chunk by chunk.

Every phase can be interrupted; running the command again resumes where it stopped. No raw
value is read anywhere: chaining needs only the stored tokens and the new key.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from core.errors import ConfigurationError, EarlylinkError
from core.settings import Settings
from schemas.catalogue import catalogue
from schemas.wire import decode, encode
from sink import graph, key_state
from sink.connection import Durable
from sink.offsets import committed_offsets
from sink.rows import StoredPayload
from sink.sources import own_topic_sources
from stream_processors import key_versions
from stream_processors.key_versions import KeyVersions, made_text
from stream_processors.lag import end_offsets
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keyfiles import create_key, load_keyring
from stream_processors.pseudonymise.rekey import carries, lifted, lifted_frequencies
from stream_processors.resolve.model import Model, configured_model, load_model
from stream_processors.resolve.records import keeping_versions, key_versions_of
from stream_processors.resolve_agent import MODEL_STATE, Resolver

Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]  # (phase, records done, records in all)
# one chunk's transaction: (the records read after ``after``, how many of them it changed)
Chunk = Callable[..., Awaitable[tuple[list[StoredPayload], int]]]
REKEYED_MODEL = "key_rotation_model"  # the model version this rotation wrote (not twice)


class RotationWaiting(EarlylinkError):
    """A processor did not get where the rotation needs it within the patience given."""


@dataclass(frozen=True)
class RotationReport:
    made_under: int
    to: int
    carried: int  # stored records given the new version by the carry phase and the switch
    stripped: int  # stored records the old version was removed from
    model_rekeyed: bool


class Rotation:
    """One rotation of the store in ``settings``' database to the next key version."""

    def __init__(self, settings: Settings, chunk: int = 2_000, patience_s: float = 600) -> None:
        if chunk < 1:
            raise ConfigurationError(f"rotation chunk must be at least 1 record, not {chunk}")
        if settings.pseudonymisation.secret or settings.pseudonymisation.secret_file:
            raise ConfigurationError(
                "rotation needs versioned key files (earlylink keys create); the secret now"
                " comes from EARLYLINK_PSEUDONYMISATION_SECRET(_FILE), which holds one version"
            )
        self.settings = settings
        self.chunk = chunk
        self.patience_s = patience_s
        self.contracts = catalogue()
        self.encoder = Encoder(load_keyring(settings))
        self.db = Durable(settings.database_dsn, "keys rotate")

    async def run(self, say: Say, progress: Progress | None = None) -> RotationReport:
        try:
            return await self._run(say, progress or (lambda *_: None))
        finally:
            await self.db.close()

    async def _run(self, say: Say, progress: Progress) -> RotationReport:
        versions = await self.db.run(_read)
        carried, rekeyed = 0, False
        if versions.retired is None:
            if versions.next is None:
                versions = await self.begin(versions, say)
            await self.wait_for_pseudonymiser(versions, say)
            await self.wait_for_resolver(say)
            rekeyed = await self.rekey_model(versions, say)
            carried = await self.carry(versions, progress)
            say(f"switching to key version {versions.next} (the resolver waits for it)")
            carried += await self.switch(versions)
            versions = await self.db.run(_read)
        retired = versions.retired
        assert retired is not None
        stripped = await self.clean(versions, progress)
        return RotationReport(retired, versions.working, carried, stripped, rekeyed)

    async def begin(self, versions: KeyVersions, say: Say) -> KeyVersions:
        """The next version's secret, and the state that has the pseudonymiser make both."""
        to = versions.working + 1
        if to not in self.encoder.keyring.secrets:
            made, path = create_key(self.settings)
            if made != to:
                raise ConfigurationError(f"made key version {made} ({path}); expected {to}")
            say(f"created key version {to}: {path} (every pseudonymiser needs a copy)")
            self.encoder = Encoder(load_keyring(self.settings))
        rotating = KeyVersions(versions.working, to)
        await self.db.run(lambda conn: _write(conn, rotating))
        say(f"rotating from key version {versions.working} to {to}")
        return rotating

    async def wait_for_pseudonymiser(self, versions: KeyVersions, say: Say) -> None:
        """Until the pseudonymiser confirms both versions, or has no message left to read."""
        wanted = made_text(versions.made)

        async def confirmed(conn: graph.Conn) -> bool:
            async with conn.transaction():
                held = await key_state.confirmed(conn, key_versions.PSEUDONYMISER)
                return held == wanted

        say(f"waiting for the pseudonymiser to make tokens under key versions {wanted}")
        await self._until(
            lambda: self._confirmed_or_idle(confirmed),
            "the pseudonymiser has not taken both key versions: is it running, with the new"
            " key file in its key folder? Run `earlylink keys rotate` again to resume",
        )

    async def _confirmed_or_idle(self, confirmed: Callable[[graph.Conn], Any]) -> bool:
        if await self.db.run(confirmed):
            return True
        return await asyncio.to_thread(self._pseudonymiser_idle)

    def _pseudonymiser_idle(self) -> bool:
        """Whether the pseudonymiser has committed every raw message there is (no batch in
        flight: a batch's offsets are committed with it)."""
        kafka, dsn = self.settings.kafka, self.settings.database_dsn
        topics = [kafka.topic("raw")] + [kafka.topic(f"raw.{s}") for s in own_topic_sources(dsn)]
        group = kafka.group("pseudonymise")
        return all(_caught_up(dsn, group, topic, end_offsets(kafka, topic)) for topic in topics)

    async def wait_for_resolver(self, say: Say) -> None:
        """Until the resolver has committed everything on the pseudonymised topic now."""
        kafka, dsn = self.settings.kafka, self.settings.database_dsn
        topic = kafka.topic("pseudonymised")
        ends = await asyncio.to_thread(end_offsets, kafka, topic)
        group = kafka.group("resolve")
        say("waiting for the resolver to read what was published before")

        async def caught_up() -> bool:
            return await asyncio.to_thread(_caught_up, dsn, group, topic, ends)

        await self._until(
            caught_up,
            "the resolver has not read the pseudonymised topic up to where the rotation began:"
            " is it running? Run `earlylink keys rotate` again to resume",
        )

    async def rekey_model(self, versions: KeyVersions, say: Say) -> bool:
        """A model with term frequencies gets them under the next version too (rewritten in
        place, 0600), and the resolver must run it before the switch."""
        path = self.settings.processor.model_path
        model = load_model(path)
        if not model.tf or path is None:
            return False
        done = await self.db.run(lambda conn: _state(conn, REKEYED_MODEL))
        if done != model.version:
            assert versions.next is not None
            tf = lifted_frequencies(model.tf, self.encoder, versions.working, versions.next)
            model = dataclasses.replace(model, tf=tf)
            await self.db.run(lambda conn: _set(conn, REKEYED_MODEL, model.version))
            model.save(path)
            say(f"{path}: term frequencies now under both key versions (model {model.version})")
        say("waiting for the resolver to run that model: restart it")
        await self._until(
            lambda: self._resolver_runs(model),
            f"the resolver does not run model {model.version} yet: restart it, then run"
            " `earlylink keys rotate` again",
        )
        return True

    async def _resolver_runs(self, model: Model) -> bool:
        return await self.db.run(lambda conn: _state(conn, MODEL_STATE)) == model.version

    async def carry(self, versions: KeyVersions, progress: Progress) -> int:
        """Give every stored record the next version, a chunk per transaction."""
        return await self._in_chunks(
            partial(self._carry_chunk, versions=versions), "carrying", progress
        )

    async def _in_chunks(self, step: Chunk, phase: str, progress: Progress) -> int:
        """``step`` over every active record in key order, a chunk per transaction; the
        records it changed."""
        total = await self.db.run(lambda conn: _count(conn))
        after, seen, changed = "", 0, 0
        while True:
            rows, n = await self.db.run(partial(step, after=after))
            if not rows:
                return changed
            after, seen, changed = rows[-1].record_key, seen + len(rows), changed + n
            progress(phase, seen, max(seen, total))

    async def _carry_chunk(
        self, conn: graph.Conn, *, versions: KeyVersions, after: str, size: int | None = None
    ) -> tuple[list[StoredPayload], int]:
        async with conn.transaction():
            await graph.lock_graph(conn)
            rows = await graph.active_after(conn, after, size or self.chunk)
            return rows, await graph.replace_payloads(conn, self._carried(rows, versions))

    def _carried(self, rows: list[StoredPayload], versions: KeyVersions) -> list[StoredPayload]:
        to = versions.next
        assert to is not None
        out = []
        for row in rows:
            record = decode(row.payload, self.contracts).record
            if not carries(record, to):
                up = lifted(record, self.encoder, versions.working, to)
                out.append(row._replace(payload=self._encoded(up)))
        return out

    def _encoded(self, record: dict[str, Any]) -> bytes:
        return encode(self.contracts.latest("PseudoRecord"), record)

    async def switch(self, versions: KeyVersions) -> int:
        """One transaction under the graph lock: carry what was stored since, make the next
        version the working one, rebuild the blocking index from its tokens."""
        to = versions.next
        assert to is not None
        model = configured_model(self.settings)
        resolver = Resolver(self.settings, self.contracts, model)
        switched = KeyVersions(to, None, retired=versions.working)

        async def work(conn: graph.Conn) -> int:
            async with conn.transaction():
                await graph.lock_graph(conn)
                running = await graph.state(conn, MODEL_STATE)
                if running is not None and running != model.version:
                    raise ConfigurationError(
                        f"the resolver runs model {running}, not the configured {model.version}:"
                        " restart it with the configured model, then rotate again"
                    )
                carried, after = 0, ""
                while True:
                    rows, n = await self._carry_chunk(
                        conn, versions=versions, after=after, size=5_000
                    )
                    if not rows:
                        break
                    carried, after = carried + n, rows[-1].record_key
                await _write(conn, switched)
                resolver.versions = switched
                await resolver.reindex_if_stale(conn)
                return carried

        return await self.db.run(work)

    async def clean(self, versions: KeyVersions, progress: Progress) -> int:
        """Strip every version but the working one from the stored records, then end."""
        step = partial(self._clean_chunk, versions=versions)
        stripped = await self._in_chunks(step, "cleaning", progress)
        done = KeyVersions(versions.working)
        await self.db.run(lambda conn: _write(conn, done))
        return stripped

    async def _clean_chunk(
        self, conn: graph.Conn, *, versions: KeyVersions, after: str
    ) -> tuple[list[StoredPayload], int]:
        async with conn.transaction():
            await graph.lock_graph(conn)
            rows = await graph.active_after(conn, after, self.chunk)
            kept = []
            for row in rows:
                record = decode(row.payload, self.contracts).record
                if key_versions_of(record) - {versions.working}:
                    record = keeping_versions(record, (versions.working,))
                    kept.append(row._replace(payload=self._encoded(record)))
            return rows, await graph.replace_payloads(conn, kept)

    async def _until(self, ready: Callable[[], Any], why: str) -> None:
        deadline = time.monotonic() + self.patience_s
        while not await ready():
            if time.monotonic() > deadline:
                raise RotationWaiting(why)
            await asyncio.sleep(1.0)


def _caught_up(dsn: str, group: str, topic: str, ends: dict[int, int]) -> bool:
    done = committed_offsets(dsn, group, topic)
    return all(done.get(partition, 0) >= end for partition, end in ends.items())


async def _read(conn: graph.Conn) -> KeyVersions:
    async with conn.transaction():
        return await key_versions.read(conn)


async def _write(conn: graph.Conn, versions: KeyVersions) -> None:
    async with conn.transaction():
        await key_versions.write(conn, versions)


async def _state(conn: graph.Conn, name: str) -> str | None:
    async with conn.transaction():
        return await graph.state(conn, name)


async def _set(conn: graph.Conn, name: str, value: str) -> None:
    async with conn.transaction():
        await graph.set_state(conn, name, value)


async def _count(conn: graph.Conn) -> int:
    async with conn.transaction():
        return await graph.active_count(conn)
