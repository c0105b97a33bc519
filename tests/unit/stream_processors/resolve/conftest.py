"""Helpers: person records pseudonymised by the real stage, as the resolver receives them."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from schemas.catalogue import catalogue
from schemas.models import Envelope, PersonRecord, Role, Sex
from schemas.wire import decode, encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.rules import Rules, SharedScheme
from stream_processors.resolve.records import LinkRecord, from_pseudo

RING = Keyring({1: b"r" * 32}, 1)
RULES = Rules(  # two shared schemes: one unique per person, one not (with near tokens)
    shared={
        "client-index": SharedScheme("client-index", re.compile(r"CI[0-9]{6}")),
        "family-case": SharedScheme("family-case", unique=False, near=True),
    }
)


@pytest.fixture(scope="session")
def link() -> Callable[..., LinkRecord]:
    """Build a LinkRecord from raw fields through the real pseudonymise stage."""
    from stream_processors.pseudonymise.stage import Pseudonymiser

    stage = Pseudonymiser(catalogue(), RING, Encoder(RING), RULES)

    def make(**kw: Any) -> LinkRecord:
        fields: dict[str, Any] = {
            "envelope": Envelope(
                event_id=uuid.uuid4(),
                source_system=kw.pop("source", "hv"),
                event_time=dt.datetime(2025, 1, 10, tzinfo=dt.UTC),
                schema_version=2,
            ),
            "record_id": kw.pop("record_id", uuid.uuid4().hex[:8]),
            "record_version": 1,
            "role": Role.CHILD,
            "sex": Sex.FEMALE,
            "given_names": "Amara",
            "family_name": "Okafor",
            "date_of_birth": dt.date(2023, 4, 5),
            "postcode": "SE11 5QY",
        }
        fields.update(kw)
        event = PersonRecord(**fields)
        data = encode(catalogue().latest("PersonRecord"), event.to_avro())
        result = stage.process(
            RawMessage("raw", 0, 0, data), dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        )
        assert result.value is not None, result.entry
        return from_pseudo(decode(result.value, catalogue()).record)

    return make
