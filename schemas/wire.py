"""Wire encoding of events on Kafka: two framings of the same Avro binary body.

- The **Confluent wire format** (with a schema registry, the default): the byte ``00``, the
  writer schema's 4-byte big-endian registry id, then the body. Any Confluent client decodes it
  with the registry's URL.
- Avro **single-object encoding** (Avro specification; producers without a registry): the two
  bytes ``C3 01``, the 8-byte CRC-64-AVRO fingerprint of the writer schema's canonical form,
  then the body. The reader finds the writer schema in the catalogue by that fingerprint.

``Codec`` writes the one its registry allows and reads both. With no registry configured, a
Confluent-framed message is rejected with its own reason rather than misread. The linked store
keeps payloads single-object encoded (``as_single_object``): readable with the catalogue alone,
whatever happens to a registry's ids.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from fastavro import schemaless_reader, schemaless_writer

from core.errors import ContractError
from schemas.catalogue import Catalogue, SchemaVersion

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
HEADER_LEN = len(SINGLE_OBJECT_MAGIC) + 8
CONFLUENT_HEADER_LEN = len(CONFLUENT_MAGIC) + 4


class DecodeReason(StrEnum):
    """Why an event could not be decoded at all (dead-letter reason codes)."""

    EMPTY = "EMPTY"
    BAD_MAGIC = "BAD_MAGIC"
    CONFLUENT_WITHOUT_REGISTRY = "CONFLUENT_WITHOUT_REGISTRY"
    UNKNOWN_SCHEMA = "UNKNOWN_SCHEMA"
    UNKNOWN_SCHEMA_ID = "UNKNOWN_SCHEMA_ID"  # Confluent-framed; the registry has no such id
    SCHEMA_OUTSIDE_CATALOGUE = "SCHEMA_OUTSIDE_CATALOGUE"  # registered, but not our contract
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


def _framed(header: bytes, version: SchemaVersion, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(header)
    try:
        schemaless_writer(buffer, version.parsed, record)
    except (ValueError, TypeError, KeyError) as exc:
        raise ContractError(
            f"record does not fit {version.event_type} v{version.version}: {type(exc).__name__}"
        ) from exc
    return buffer.getvalue()


def encode(version: SchemaVersion, record: dict[str, Any]) -> bytes:
    """Single-object encode ``record`` with ``version``'s schema."""
    return _framed(SINGLE_OBJECT_MAGIC + version.fingerprint, version, record)


def confluent_header(schema_id: int) -> bytes:
    return CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")


def encode_confluent(schema_id: int, version: SchemaVersion, record: dict[str, Any]) -> bytes:
    """Confluent wire format: ``record`` in ``version``'s schema, registered as ``schema_id``."""
    return _framed(confluent_header(schema_id), version, record)


def confluent_id(data: bytes) -> int | None:
    """The registry id of a Confluent-framed message (None for any other framing)."""
    if len(data) < CONFLUENT_HEADER_LEN or data[:1] != CONFLUENT_MAGIC:
        return None
    return int.from_bytes(data[1:CONFLUENT_HEADER_LEN], "big")


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
    """Decode one single-object message, reading it as the newest version of its type."""
    return read_body(data, HEADER_LEN, writer_of(data, catalogue), catalogue)


def read_body(data: bytes, start: int, writer: SchemaVersion, catalogue: Catalogue) -> Decoded:
    """The Avro body from ``start`` on, written with ``writer``, read as the newest version."""
    reader = catalogue.latest(writer.event_type)
    body = io.BytesIO(data[start:])
    added = added_defaults(writer, reader)
    try:
        if added is None:
            record = schemaless_reader(body, writer.parsed, reader.parsed)
        else:  # the writer's own schema, then the defaults: half the resolving reader's time
            record = schemaless_reader(body, writer.parsed, None)
            if isinstance(record, dict):
                for name, default in added.items():
                    record[name] = _fresh(default)
    except Exception as exc:
        raise DecodeError(
            DecodeReason.UNDECODABLE, f"{writer.event_type} v{writer.version}: {type(exc).__name__}"
        ) from exc
    if body.tell() != len(data) - start:
        raise DecodeError(
            DecodeReason.TRAILING_BYTES,
            f"{len(data) - start - body.tell()} bytes after the record",
        )
    if not isinstance(record, dict):
        raise DecodeError(DecodeReason.UNDECODABLE, "body is not a record")
    return Decoded(writer.event_type, writer.version, record)


_ADDED: dict[tuple[bytes, bytes], dict[str, Any] | None] = {}


def added_defaults(writer: SchemaVersion, reader: SchemaVersion) -> dict[str, Any] | None:
    """When ``reader`` is ``writer`` plus top-level fields with plain defaults (the way every
    contract here grows), those fields and defaults: reading with the writer's schema and
    filling them in is what Avro resolution gives. None when anything else differs (a
    promotion, a removed or changed field, a default needing conversion): resolve then."""
    key = (writer.fingerprint, reader.fingerprint)
    if key not in _ADDED:
        _ADDED[key] = _added(writer, reader)
    return _ADDED[key]


def _added(writer: SchemaVersion, reader: SchemaVersion) -> dict[str, Any] | None:
    if writer.fingerprint == reader.fingerprint:
        return {}
    wrote = {f["name"]: _shape(f["type"]) for f in writer.parsed["fields"]}
    reads = {f["name"]: f for f in reader.parsed["fields"]}
    if set(wrote) - set(reads) or any(_shape(reads[n]["type"]) != t for n, t in wrote.items()):
        return None
    added = {}
    for name in set(reads) - set(wrote):
        field = reads[name]
        if "default" not in field or not _plain(field["type"], field["default"]):
            return None
        added[name] = field["default"]
    return added


def _shape(schema: Any) -> Any:
    """A parsed schema without what does not change decoding (docs, fastavro's own keys)."""
    if isinstance(schema, dict):
        return {k: _shape(v) for k, v in schema.items() if k != "doc" and not k.startswith("__")}
    if isinstance(schema, list):
        return [_shape(s) for s in schema]
    return schema


def _plain(schema: Any, default: Any) -> bool:
    """A default that fastavro's resolving reader returns unconverted."""
    if default is None:
        return True
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if not isinstance(kind, str):
        return False  # a union with a value as its default: resolution's job
    if isinstance(default, list | dict):
        return not default and kind == ("array" if isinstance(default, list) else "map")
    scalar = {"string": str, "enum": str, "boolean": bool, "int": int, "long": int}
    return kind in scalar and type(default) is scalar[kind]


def _fresh(default: Any) -> Any:
    """A default as a record's own value (a list or map is never shared between records)."""
    return type(default)() if isinstance(default, list | dict) else default


class Ids(Protocol):
    """Registry ids of the catalogue's versions (``schemas.registry.ContractRegistry``)."""

    def id_of(self, version: SchemaVersion) -> int: ...

    def known(self, schema_id: int) -> SchemaVersion | DecodeReason | None:
        """What an id was found to be (a version, or why none), None if never looked up."""

    def lookup(self, schema_id: int) -> SchemaVersion | DecodeReason: ...


@dataclass
class Codec:
    """Encodes as the registry allows (Confluent-framed with one, single-object without) and
    decodes either. Decoding never makes a request: ``prepare`` looks up, before a batch is
    decoded, the ids in it not yet known (the one step that may wait on the registry)."""

    contracts: Catalogue
    registry: Ids | None = None

    def encode(self, version: SchemaVersion, record: dict[str, Any]) -> bytes:
        if self.registry is None:
            return encode(version, record)
        return encode_confluent(self.registry.id_of(version), version, record)

    def unknown_ids(self, messages: Iterable[bytes]) -> set[int]:
        """The registry ids among ``messages`` never looked up (no request made)."""
        if self.registry is None:
            return set()
        ids = {i for i in map(confluent_id, messages) if i is not None}
        return {i for i in ids if self.registry.known(i) is None}

    def prepare(self, messages: Iterable[bytes]) -> None:
        """Look up every unknown registry id among ``messages`` (may raise RegistryError)."""
        registry = self.registry
        for schema_id in self.unknown_ids(messages):
            if registry is not None:
                registry.lookup(schema_id)

    def writer(self, data: bytes) -> tuple[SchemaVersion, int]:
        """The writer schema of a message and where its body starts."""
        schema_id = confluent_id(data)
        if schema_id is None:
            return writer_of(data, self.contracts), HEADER_LEN
        if self.registry is None:
            raise DecodeError(
                DecodeReason.CONFLUENT_WITHOUT_REGISTRY,
                "Confluent wire format but no schema registry is configured",
            )
        found = self.registry.known(schema_id)
        if found is None:  # not prepared: look it up now rather than misjudge it
            found = self.registry.lookup(schema_id)
        if isinstance(found, DecodeReason):
            raise DecodeError(found, f"schema id {schema_id}")
        return found, CONFLUENT_HEADER_LEN

    def decode(self, data: bytes) -> Decoded:
        writer, start = self.writer(data)
        return read_body(data, start, writer, self.contracts)

    def as_single_object(self, data: bytes) -> bytes:
        """The same message single-object framed (the body is unchanged): for the store."""
        if confluent_id(data) is None:
            return data
        writer, start = self.writer(data)
        return SINGLE_OBJECT_MAGIC + writer.fingerprint + data[start:]
