"""Wire encoding of events on Kafka.

Without a schema registry, Avro *single-object encoding* (Avro specification): the two bytes
``C3 01``, the 8-byte CRC-64-AVRO fingerprint of the writer schema's canonical form, then the
Avro binary body. The reader finds the writer schema in the catalogue by that fingerprint.
A message in the Confluent wire format (``00`` + 4-byte registry id) is recognised and, with no
registry configured, rejected with its own reason rather than misread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from earlylink.errors import ContractError
from schemas.catalogue import Catalogue, SchemaVersion

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
HEADER_LEN = len(SINGLE_OBJECT_MAGIC) + 8


class DecodeReason(StrEnum):
    """Why an event could not be decoded at all (dead-letter reason codes)."""

    EMPTY = "EMPTY"
    BAD_MAGIC = "BAD_MAGIC"
    CONFLUENT_WITHOUT_REGISTRY = "CONFLUENT_WITHOUT_REGISTRY"
    UNKNOWN_SCHEMA = "UNKNOWN_SCHEMA"
    UNDECODABLE = "UNDECODABLE"
    TRAILING_BYTES = "TRAILING_BYTES"


class DecodeError(ContractError):
    """An event's bytes cannot be turned into a record; ``reason`` is the dead-letter code."""

    def __init__(self, reason: DecodeReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    """A decoded event: its type, the writer's version, the record read as the newest version."""

    event_type: str
    writer_version: int
    record: dict[str, Any]


def encode(version: SchemaVersion, record: dict[str, Any]) -> bytes:
    """Single-object encode ``record`` with ``version``'s schema."""
    buffer = io.BytesIO()
    buffer.write(SINGLE_OBJECT_MAGIC)
    buffer.write(version.fingerprint)
    try:
        schemaless_writer(buffer, version.parsed, record)
    except (ValueError, TypeError, KeyError) as exc:
        raise ContractError(
            f"record does not fit {version.event_type} v{version.version}: {type(exc).__name__}"
        ) from exc
    return buffer.getvalue()


def writer_of(data: bytes, catalogue: Catalogue) -> SchemaVersion:
    """The writer schema named by a message's header."""
    if not data:
        raise DecodeError(DecodeReason.EMPTY, "empty message")
    if data[:1] == CONFLUENT_MAGIC:
        raise DecodeError(
            DecodeReason.CONFLUENT_WITHOUT_REGISTRY,
            "Confluent wire format but no schema registry is configured",
        )
    if data[:2] != SINGLE_OBJECT_MAGIC or len(data) < HEADER_LEN:
        raise DecodeError(DecodeReason.BAD_MAGIC, "not Avro single-object encoding")
    version = catalogue.by_fingerprint(data[2:HEADER_LEN])
    if version is None:
        raise DecodeError(
            DecodeReason.UNKNOWN_SCHEMA,
            f"fingerprint {data[2:HEADER_LEN].hex()} is not in the catalogue",
        )
    return version


def decode(data: bytes, catalogue: Catalogue) -> Decoded:
    """Decode one message, reading it as the newest version of its event type."""
    writer = writer_of(data, catalogue)
    reader = catalogue.latest(writer.event_type)
    body = io.BytesIO(data[HEADER_LEN:])
    try:
        record = schemaless_reader(body, writer.parsed, reader.parsed)
    except Exception as exc:
        raise DecodeError(
            DecodeReason.UNDECODABLE, f"{writer.event_type} v{writer.version}: {type(exc).__name__}"
        ) from exc
    if body.tell() != len(data) - HEADER_LEN:
        raise DecodeError(
            DecodeReason.TRAILING_BYTES,
            f"{len(data) - HEADER_LEN - body.tell()} bytes after the record",
        )
    if not isinstance(record, dict):
        raise DecodeError(DecodeReason.UNDECODABLE, "body is not a record")
    return Decoded(writer.event_type, writer.version, record)
