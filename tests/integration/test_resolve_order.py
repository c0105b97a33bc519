"""Sequence neutrality on real PostgreSQL: the same pseudonymised records in several orders, in
different batch sizes and replayed with duplicates, give exactly the same partition into persons
as one batch over everything: also with a block cap small enough that many blocking keys cross
it (and drop back under it as records are withdrawn), with records sent twice at one
version with different content, and with the model changed mid-stream and the graph relinked
(``earlylink relink``, interrupted and resumed). The shipped model weighs names by the store's
own counts, which move with every batch (``stream_processors.resolve.terms``): the links and
their weights are compared too."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from earlylink.relink import Relinker, RelinkReport
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.models import Event, PersonRecord
from sink.linked import term_counts
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver
from tests.conftest import processor_env
from tests.pseudonymised import forwarded

Partition = frozenset[frozenset[str]]
SHIPPED = Path(__file__).parents[2] / "stream_processors" / "resolve" / "default_model.json"


def _same_version_twin(event: PersonRecord, i: int) -> PersonRecord:
    """The record again at the same version, with other content and another event id (a
    source re-sending a corrected record without bumping its version)."""
    return event.model_copy(
        update={
            "envelope": event.envelope.model_copy(update={"event_id": uuid.UUID(int=i + 1)}),
            "given_names": f"{event.given_names or ''}x",
            "postcode": None,
        }
    )


@pytest.fixture(scope="module")
def pseudonymised() -> list[bytes]:
    """A small borough's events as the pseudonymiser forwards them, with every 25th person
    record also sent again at the same version with different content."""
    events: list[Event] = []
    for i, event in enumerate(BoroughGenerator(400, 5).events()):
        events.append(event)
        if isinstance(event, PersonRecord) and i % 25 == 0:
            events.append(_same_version_twin(event, i))
    return forwarded(events, b"s")


async def _resolve(
    settings: Settings, messages: list[bytes], batch: int, first_offset: int = 0
) -> Partition:
    resolver = Resolver(settings, catalogue(), load_model(settings.processor.model_path))
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        for start in range(0, len(messages), batch):
            chunk = [
                RawMessage("p", 0, first_offset + start + i, v)
                for i, v in enumerate(messages[start : start + batch])
            ]
            async with conn.transaction():
                await resolver.apply(conn, chunk)
        return await _partition(conn)


async def _partition(conn: psycopg.AsyncConnection[Any]) -> Partition:
    rows = await (await conn.execute("SELECT person_id, record_key FROM memberships")).fetchall()
    persons: dict[str, set[str]] = defaultdict(set)
    for person, key in rows:
        persons[person].add(key)
    return frozenset(frozenset(m) for m in persons.values())


def _activity(settings: Settings) -> tuple[Any, ...]:
    """Relations, contacts and outcomes as stored (withdrawn records' ones purged)."""
    with psycopg.connect(settings.database_dsn) as conn:
        relations = conn.execute(
            "SELECT record_key, related_key, relationship FROM record_relations"
        ).fetchall()
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM service_contacts),"
            " (SELECT count(*) FROM outcome_measures)"
        ).fetchone()
    return frozenset(relations), counts


def _edges(settings: Settings) -> frozenset[tuple[str, str, float]]:
    """The links scored, with their weights (to a millionth of a bit)."""
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute("SELECT a, b, weight FROM match_edges").fetchall()
    return frozenset((a, b, round(w, 6)) for a, b, w in rows)


def _name_weights(settings: Settings) -> set[float]:
    """The weights exact given-name agreement had in the links scored."""
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute(
            "SELECT c->>'weight' FROM match_edges, jsonb_array_elements(evidence->'comparisons') c"
            " WHERE c->>'comparison' = 'given' AND c->>'level' = 'exact'"
        ).fetchall()
    return {float(w) for (w,) in rows}


def _term_counts(settings: Settings) -> dict[bytes, int]:
    """The store's count of each counted name token, checked against its holders' rows."""
    counts = term_counts(settings.database_dsn)
    with psycopg.connect(settings.database_dsn) as conn:
        held = conn.execute("SELECT token, count(*) FROM term_holders GROUP BY token").fetchall()
    assert counts == {bytes(t): int(n) for t, n in held}  # kept by deltas, none left at zero
    return counts


def _capped(settings: Settings, cap: int) -> Settings:
    settings.processor = settings.processor.model_copy(update={"block_cap": cap})
    return settings


@pytest.mark.parametrize("cap", [100, 3], ids=["default cap", "keys beyond a cap of 3"])
def test_partition_does_not_depend_on_order(
    pseudonymised: list[bytes], isolated: Any, cap: int
) -> None:
    first = _capped(isolated(), cap)
    everything = asyncio.run(_resolve(first, pseudonymised, len(pseudonymised)))
    activity, edges, counts = _activity(first), _edges(first), _term_counts(first)
    assert len(everything) > 150
    assert any(len(p) > 1 for p in everything)
    # the shipped model weighs a name by how many records hold it (the store's own counts)
    assert len(_name_weights(first)) > 3
    orders = {
        "time order, batches of 40": (pseudonymised, 40),
        "reversed, batches of 25": (pseudonymised[::-1], 25),
    }
    for seed in (1, 2):
        rng = random.Random(seed)
        shuffled = pseudonymised[:]
        rng.shuffle(shuffled)
        replayed = shuffled + rng.sample(pseudonymised, len(pseudonymised) // 5)
        rng.shuffle(replayed)
        orders[f"shuffled {seed} with duplicates, batches of 33"] = (replayed, 33)
    for name, (messages, batch) in orders.items():
        settings = _capped(isolated(), cap)
        got = asyncio.run(_resolve(settings, messages, batch))
        assert got == everything, name
        assert _activity(settings) == activity, name
        assert _edges(settings) == edges, name  # every link scored alike, the names' too
        assert _term_counts(settings) == counts, name


def _changed_model(folder: Path) -> Path:
    """The shipped model with other blocking rules (one left out: the index is rebuilt), a
    higher threshold and other weights on names, with a term-frequency table of its own (as
    a trained model has: names no longer weighed by the store's counts, whose moves would
    re-score most records anyway): another partition of the same records."""
    config = json.loads(SHIPPED.read_text())
    config["blocking"] = [r for r in config["blocking"] if r["name"] != "postcode_given"]
    config["link_threshold"] = 12.0
    config["tf"], config["tf_total"] = {"gname": {}, "fname": {}}, {"gname": 500, "fname": 500}
    for comparison in config["comparisons"]:
        if comparison["name"] == "given":
            comparison["levels"][0]["m"] = 0.7
    path = folder / "changed.json"
    path.write_text(json.dumps(config))
    return path


def _with_model(settings: Settings, path: Path) -> Settings:
    settings.processor = settings.processor.model_copy(update={"model_path": path})
    return settings


class Interrupted(Exception):
    pass


def _relink(settings: Settings, chunk: int, stop_after: int | None = None) -> RelinkReport:
    def progress(done: int, total: int) -> None:
        if stop_after is not None and done >= stop_after:
            raise Interrupted  # a crash after a committed chunk

    return asyncio.run(Relinker(settings, chunk).run(progress=progress))


def test_a_model_change_and_relink_end_as_a_fresh_run(
    pseudonymised: list[bytes], isolated: Any, tmp_path: Path
) -> None:
    changed = _changed_model(tmp_path)
    fresh = asyncio.run(
        _resolve(_with_model(isolated(), changed), pseudonymised, len(pseudonymised))
    )
    shipped = asyncio.run(_resolve(isolated(), pseudonymised, len(pseudonymised)))
    assert fresh != shipped  # the change matters

    rng = random.Random(3)
    shuffled = pseudonymised[:]
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    settings = isolated()
    asyncio.run(_resolve(settings, shuffled[:half], 40))  # the shipped model
    restarted = _with_model(settings, changed)  # then the resolver restarts with the change
    mixed = asyncio.run(_resolve(restarted, shuffled[half:], 40, first_offset=half))
    assert mixed != fresh  # what relink is for

    with pytest.raises(Interrupted):
        _relink(restarted, chunk=150, stop_after=300)
    report = _relink(restarted, chunk=150)  # resumes after the two chunks committed
    assert report.resumed_from == 300 and report.records > 0

    async def stored() -> Partition:
        async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
            return await _partition(conn)

    assert asyncio.run(stored()) == fresh
    again = _relink(restarted, chunk=150)
    assert again.already_done and again.records == 0


def test_relink_refuses_a_model_the_resolver_does_not_run(
    pseudonymised: list[bytes], isolated: Any, tmp_path: Path
) -> None:
    settings = isolated()
    asyncio.run(_resolve(settings, pseudonymised[:200], 100))  # the resolver runs the shipped
    with pytest.raises(ConfigurationError, match="restart the resolver"):
        _relink(_with_model(settings, _changed_model(tmp_path)), chunk=100)


def _cli(settings: Settings, *args: str, model: Path | None = None) -> Any:
    env = {**os.environ, **processor_env(settings)}
    if model is not None:
        env["EARLYLINK_PROCESSOR_MODEL_PATH"] = str(model)
    return subprocess.run(
        [sys.executable, "-m", "earlylink", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_train_then_relink_from_the_command_line(
    pseudonymised: list[bytes], isolated: Any, tmp_path: Path
) -> None:
    """The path a new deployment follows: stream with the shipped model, train, restart the
    resolver with the trained model, relink."""
    settings = isolated()
    asyncio.run(_resolve(settings, pseudonymised, 200))
    trained = tmp_path / "trained.json"
    done = _cli(settings, "train", "--out", str(trained))
    assert done.returncode == 0, done.stderr
    refused = _cli(settings, "relink", model=trained)  # the resolver still runs the shipped one
    assert refused.returncode == 1 and "restart the resolver" in refused.stderr
    assert "Traceback" not in refused.stderr

    resolver = Resolver(settings, catalogue(), load_model(trained))

    async def restart() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
            await resolver.start(conn)

    asyncio.run(restart())
    relinked = _cli(settings, "relink", "--chunk", "500", model=trained)
    assert relinked.returncode == 0, relinked.stderr
    assert f"with model {load_model(trained).version}" in relinked.stdout
    again = _cli(settings, "relink", model=trained)
    assert "already relinked" in again.stdout
