"""``earlylink status``'s linkage rows read from a real store along the path a new deployment
follows: the shipped model, a trained model configured, the resolver restarted on it, then
``earlylink relink`` (``earlylink.linkage_status``, ``sink.linkage_state``)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from core.errors import SinkError
from core.settings import Settings
from earlylink.linkage_status import Stored, by_running, linkage_rows, stored
from earlylink.relink import Relinker
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from stream_processors.messages import RawMessage
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver
from tests.pseudonymised import forwarded


def _apply(settings: Settings, messages: list[bytes], first: int) -> None:
    resolver = Resolver(settings, catalogue(), load_model(settings.processor.model_path))

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
            chunk = [RawMessage("p", 0, first + i, v) for i, v in enumerate(messages)]
            async with conn.transaction():
                await resolver.apply(conn, chunk)

    asyncio.run(run())


def _counts(settings: Settings) -> tuple[dict[str, int], int]:
    with psycopg.connect(settings.database_dsn) as conn:
        links = conn.execute("SELECT model_version, count(*) FROM match_edges GROUP BY 1")
        by_model = {str(v): int(n) for v, n in links.fetchall()}
        active = conn.execute(
            "SELECT count(*) FROM records WHERE state = 'ACTIVE' AND payload IS NOT NULL"
        ).fetchone()
    assert active is not None
    return by_model, int(active[0])


def _rows(settings: Settings, store: Stored) -> dict[str, str]:
    model = load_model(settings.processor.model_path)
    return dict(linkage_rows(model, settings.processor.model_path, store))


def _trained_file(folder: Path) -> Path:
    """A model file as ``earlylink train`` writes one: numbers and a term-frequency table."""
    config = load_model().to_json()
    config["prior"], config["tf"], config["tf_total"] = 1 / 500, {"gname": {}}, {"gname": 500}
    path = folder / "trained.json"
    path.write_text(json.dumps(config))
    return path


def test_status_follows_a_deployment_from_the_shipped_model_to_a_relink(
    isolated: Any, tmp_path: Path
) -> None:
    settings = isolated()
    messages = forwarded(BoroughGenerator(30, 3).events(), b"q")
    half = len(messages) // 2
    _apply(settings, messages[:half], 0)
    shipped = load_model()

    store = stored(settings.database_dsn)
    links, active = _counts(settings)
    assert store == Stored(shipped.version, None, active, links) and active > 0
    assert links[shipped.version] > 0
    rows = _rows(settings, store)
    assert "the shipped model, not trained" in rows["model"]
    assert rows["next step"].startswith("train on this store: earlylink train")

    settings.processor = settings.processor.model_copy(
        update={"model_path": _trained_file(tmp_path)}
    )
    trained = load_model(settings.processor.model_path)
    assert trained.version != shipped.version
    assert _rows(settings, store)["next step"].startswith("restart the resolver")

    _apply(settings, messages[half:], half)  # the resolver, restarted on the trained model
    store = stored(settings.database_dsn)
    older = store.links.get(shipped.version, 0)
    assert store.running == trained.version and older > 0
    assert by_running(store) == (store.links[trained.version], store.links[trained.version] + older)
    rows = _rows(settings, store)
    assert rows["next step"] == f"earlylink relink: {older:,} links were scored by older models"

    report = asyncio.run(Relinker(settings, 50).run())
    store = stored(settings.database_dsn)
    assert set(store.links) == {trained.version}
    assert by_running(store) == (store.links[trained.version],) * 2
    rows = _rows(settings, store)
    assert rows["relink"] == f"done with this model ({report.records:,} records)"
    assert "next step" not in rows


def test_a_store_that_cannot_be_read_is_a_sink_error_saying_why(isolated: Any) -> None:
    dsn = make_conninfo(isolated().database_dsn, dbname="no_such_store_x")  # the server is up
    with pytest.raises(
        SinkError, match=r"cannot read the store's linkage state: .*no_such_store_x"
    ):
        stored(dsn)
