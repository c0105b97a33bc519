"""Events as the pseudonymiser forwards them to the resolver: what resolver tests feed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from schemas.catalogue import catalogue
from schemas.models import Event
from schemas.wire import encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser


def forwarded(
    events: Iterable[Event], secret: bytes, now: dt.datetime | None = None
) -> list[bytes]:
    """Each event encoded as its schema version and pseudonymised under a one-key ring of
    ``secret`` (one byte, repeated); those the pseudonymiser refuses are left out."""
    ring = Keyring({1: secret * 32}, 1)
    stage = Pseudonymiser(catalogue(), ring, Encoder(ring))
    when = now or dt.datetime.now(dt.UTC)
    out = []
    for i, event in enumerate(events):
        version = catalogue().get(event.EVENT_TYPE, event.envelope.schema_version)
        result = stage.process(RawMessage("raw", 0, i, encode(version, event.to_avro())), when)
        if result.value is not None:
            out.append(result.value)
    return out


def pseudo_person(envelope: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A PseudoRecord (newest contract) of a permitted child with no tokens, encodings or
    relations; ``fields`` replace any of its fields."""
    record: dict[str, Any] = {
        "envelope": envelope,
        "record_key": "ab" * 32,
        "record_version": 1,
        "role": "CHILD",
        "sex": "FEMALE",
        "consent": "PERMITTED",
        "area": None,
        "key_version": 1,
        "tokens": [],
        "token_sets": [],
        "encodings": [],
        "related": [],
        "field_issues": [],
        "raw_timestamp_ms": None,
    }
    return record | fields
