"""Withdrawal and erasure cannot be defeated, on real PostgreSQL through the resolver's own
batch code: a record and its withdrawal in one batch (either order), a later version past the
tombstones' and a replayed batch all leave the withdrawal whole and audited once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest

from core.settings import Settings
from schemas.catalogue import catalogue
from schemas.limits import FINAL_VERSION
from schemas.models import (
    ConsentChange,
    ConsentReason,
    ConsentState,
    Envelope,
    PersonRecord,
    Role,
)
from schemas.wire import decode, encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser
from stream_processors.resolve.model import load_model
from stream_processors.resolve_agent import Resolver

RING = Keyring({1: b"w" * 32}, 1)
STAGE = Pseudonymiser(catalogue(), RING, Encoder(RING))
WHEN = dt.datetime(2025, 5, 1, 10, tzinfo=dt.UTC)


def _env(source: str, version: int) -> dict[str, Any]:
    return Envelope(
        event_id=uuid.uuid4(), event_time=WHEN, source_system=source, schema_version=version
    ).model_dump()


def _pseudo(event: Any) -> bytes:
    data = encode(catalogue().get(event.EVENT_TYPE, event.envelope.schema_version), event.to_avro())
    result = STAGE.process(RawMessage("raw", 0, 0, data), WHEN + dt.timedelta(days=1))
    assert result.value is not None, result.entry
    return result.value


def _child(source: str, version: int = 1) -> bytes:
    return _pseudo(
        PersonRecord(
            envelope=Envelope(**_env(source, 2)),
            record_id=f"{source}-1",
            record_version=version,
            role=Role.CHILD,
            given_names="Tallulah",
            family_name="Okonkwo-Reyes",
            date_of_birth=dt.date(2024, 2, 29),
            postcode="SE5 8RX",
        )
    )


def _withdrawal(source: str) -> bytes:
    return _pseudo(
        ConsentChange(
            envelope=Envelope(**_env(source, 1)),
            person_record_id=f"{source}-1",
            new_state=ConsentState.WITHDRAWN,
            reason=ConsentReason.PARENT_REQUEST,
        )
    )


def _with_version(payload: bytes, version: int) -> bytes:
    """A pseudonymised record as another writer could put it on the topic."""
    record = decode(payload, catalogue()).record
    record["record_version"] = version
    record["envelope"]["event_id"] = uuid.uuid4()
    return encode(catalogue().latest("PseudoRecord"), record)


async def _apply(settings: Settings, batches: list[list[bytes]]) -> None:
    resolver = Resolver(settings, catalogue(), load_model())
    async with await psycopg.AsyncConnection.connect(settings.database_dsn) as conn:
        offset = 0
        for values in batches:
            batch = [RawMessage("p", 0, offset + i, v) for i, v in enumerate(values)]
            offset += len(values)
            async with conn.transaction():
                await resolver.apply(conn, batch)


def _state(settings: Settings) -> dict[str, tuple[Any, ...]]:
    """Per source: (state, payload kept, person, block keys, edges, term holder rows)."""
    with psycopg.connect(settings.database_dsn) as conn:
        rows = conn.execute(
            """
            SELECT r.source_system, r.state, r.payload IS NOT NULL, m.person_id,
                   (SELECT count(*) FROM block_keys b WHERE b.record_key = r.record_key),
                   (SELECT count(*) FROM match_edges e WHERE r.record_key IN (e.a, e.b)),
                   (SELECT count(*) FROM term_holders t WHERE t.record_key = r.record_key)
            FROM records r LEFT JOIN memberships m USING (record_key)"""
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


WITHDRAWN = ("SUPPRESSED", False, None, 0, 0, 0)


@pytest.mark.parametrize("withdrawal_first", [False, True])
def test_a_record_withdrawn_in_its_own_batch_leaves_nothing_behind(
    isolated: Any, withdrawal_first: bool
) -> None:
    settings = isolated()
    batch = [_child("health-visiting"), _child("childrens-centre")]
    withdrawal = _withdrawal("childrens-centre")
    batch = [withdrawal, *batch] if withdrawal_first else [*batch, withdrawal]
    asyncio.run(_apply(settings, [batch]))
    state = _state(settings)
    assert state["childrens-centre"] == WITHDRAWN
    assert state["health-visiting"][:2] == ("ACTIVE", True)
    assert state["health-visiting"][4] == 0  # no edge to the withdrawn record
    assert state["health-visiting"][5] == 2  # its given and family names are counted


def test_no_version_revives_a_withdrawn_record(isolated: Any) -> None:
    settings = isolated()
    first = _child("childrens-centre")
    asyncio.run(_apply(settings, [[first, _child("health-visiting")]]))
    asyncio.run(_apply(settings, [[_withdrawal("childrens-centre")]]))
    for version in (2, FINAL_VERSION, FINAL_VERSION + 1, 2**63 - 1):
        asyncio.run(_apply(settings, [[_with_version(first, version)]]))
        assert _state(settings)["childrens-centre"] == WITHDRAWN, version


def test_a_replayed_withdrawal_is_audited_once(isolated: Any) -> None:
    settings = isolated()
    asyncio.run(_apply(settings, [[_child("childrens-centre")]]))
    withdrawal = [_withdrawal("childrens-centre")]
    asyncio.run(_apply(settings, [withdrawal, withdrawal]))  # a crash before the offsets moved
    with psycopg.connect(settings.database_dsn) as conn:
        audit = conn.execute("SELECT action, source_system FROM audit_log").fetchall()
    assert audit == [("CONSENT_WITHDRAWN", "childrens-centre")]
