"""``earlylink relink``: re-score and re-cluster the stored identity graph with the configured
model, while the stream runs, so that it ends as a fresh run with that model would.

The path after ``earlylink train``: point ``EARLYLINK_PROCESSOR_MODEL_PATH`` at the new model,
restart the resolver (it rebuilds the blocking index if the rules changed, and records the
model it runs), then relink. Records go in key order, a chunk per transaction under the graph
lock (the resolver's batches run between chunks); each chunk re-indexes its records, replaces
every edge touching them with the model's scores and re-clusters their components, and records
how far it got in the same transaction, so an interrupted relink resumes where it stopped.

Why the end equals a fresh run: once a record's chunk has run, every edge touching it is the
model's (the resolver, running the same model, only writes such edges), and a component is
clustered from scratch on its records and edges each time one of its records is re-scored: the
last such time, all of its edges are the model's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from core.errors import ConfigurationError
from core.settings import Settings
from schemas.catalogue import catalogue
from schemas.registry import codec_for
from sink import graph
from sink.connection import Durable
from stream_processors.outbox import publish_pending
from stream_processors.output import BatchProducer
from stream_processors.resolve.model import configured_model
from stream_processors.resolve_agent import MODEL_STATE, RELINK_STATE, Resolver

Progress = Callable[[int, int], None]  # (records done, records in all)


@dataclass(frozen=True)
class RelinkState:
    """How far a relink with ``model`` got: every active record up to key ``after`` is done."""

    model: str
    after: str = ""
    done: int = 0
    finished: bool = False

    @classmethod
    def parse(cls, text: str | None) -> RelinkState | None:
        if not text:
            return None
        data: dict[str, Any] = json.loads(text)
        return cls(
            str(data["model"]), str(data["after"]), int(data["done"]), bool(data["finished"])
        )

    def dump(self) -> str:
        return json.dumps(asdict(self))


@dataclass(frozen=True)
class RelinkReport:
    model: str
    records: int  # re-scored by this run
    resumed_from: int  # records a previous, interrupted run had done
    already_done: bool  # the graph was relinked with this model before: nothing to do
    changes_published: int  # merges, splits and retirements sent to the identity-change topic


class Relinker:
    """One relink of the graph in ``settings``' database with its configured model."""

    def __init__(self, settings: Settings, chunk: int = 2_000) -> None:
        if chunk < 1:
            raise ConfigurationError(f"relink chunk must be at least 1 record, not {chunk}")
        self.settings = settings
        self.chunk = chunk
        self.model = configured_model(settings)
        self.resolver = Resolver(settings, catalogue(), self.model)
        self.db = Durable(settings.database_dsn, "relink")

    async def run(self, *, restart: bool = False, progress: Progress | None = None) -> RelinkReport:
        """Relink every active record; resume an interrupted run unless ``restart``."""
        try:
            return await self._run(restart, progress)
        finally:
            await self.db.close()

    async def _run(self, restart: bool, progress: Progress | None) -> RelinkReport:
        state = await self._start(restart)
        if state.finished:
            return RelinkReport(self.model.version, 0, state.done, True, 0)
        resumed, done = state.done, 0
        total = state.done + await self.db.run(partial(self._left, after=state.after))
        codec = codec_for(self.settings)
        out = BatchProducer(self.settings.kafka)
        topic = self.settings.kafka.topic("identity-changes")
        published = 0
        while not state.finished:
            state = await self.db.run(partial(self._step, state=state))
            done = state.done - resumed
            published += await publish_pending(self.db, out, topic, codec)
            if progress is not None:
                progress(state.done, max(total, state.done))
        return RelinkReport(self.model.version, done, resumed, False, published)

    async def _start(self, restart: bool) -> RelinkState:
        async def read(conn: graph.Conn) -> tuple[str | None, str | None]:
            async with conn.transaction():  # not left open: the chunks commit on their own
                return await graph.state(conn, MODEL_STATE), await graph.state(conn, RELINK_STATE)

        running, saved = await self.db.run(read)
        self._check_model(running)
        state = RelinkState.parse(saved)
        if restart or state is None or state.model != self.model.version:
            return RelinkState(self.model.version)
        return state

    def _check_model(self, running: str | None) -> None:
        if running is not None and running != self.model.version:
            raise ConfigurationError(
                f"the resolver runs model {running}, not the configured {self.model.version}"
                f" ({self.settings.processor.model_path or 'the shipped model'}): restart the"
                " resolver with this model first, so that it and the relink score alike"
            )

    async def _left(self, conn: graph.Conn, *, after: str) -> int:
        async with conn.transaction():
            return await graph.active_count(conn, after)

    async def _step(self, conn: graph.Conn, *, state: RelinkState) -> RelinkState:
        """One chunk and the new state, in one transaction (refused if the resolver was
        restarted with another model meanwhile)."""
        async with conn.transaction():
            await graph.lock_graph(conn)
            self._check_model(await graph.state(conn, MODEL_STATE))
            keys = await self.resolver.relink_after(conn, state.after, self.chunk)
            if keys:
                state = RelinkState(state.model, keys[-1], state.done + len(keys))
            else:
                state = RelinkState(state.model, state.after, state.done, finished=True)
            await graph.set_state(conn, RELINK_STATE, state.dump())
        return state
