"""The contracts in a Confluent-API schema registry: registered, checked, and looked up by id.

Subjects follow the **record-name strategy** (``org.earlylink.events.PersonRecord``): one raw
topic carries several event types, and a subject per topic (the topic-name strategy) would make
them one schema's versions. Every subject's compatibility is set to BACKWARD explicitly (a
registry's own default may be none at all, as Apicurio's is), so a version that cannot read the
one before it is refused with HTTP 409.

Ids of the catalogue's versions are learnt when they are registered (each process's start);
an id met in a message and not yet known is looked up once (``lookup``) and cached, whether the
registry knows it or not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from fastavro import parse_schema
from fastavro.schema import fingerprint, to_parsing_canonical_form

from core.errors import RegistryError
from core.settings import Settings, get_settings
from schemas.catalogue import Catalogue, SchemaVersion, catalogue
from schemas.wire import Codec, DecodeReason

log = logging.getLogger(__name__)

COMPATIBILITY = "BACKWARD"
NOT_FOUND = 404
CONFLICT = 409
SERVER_ERROR = 500


@dataclass(frozen=True)
class SubjectState:
    """One subject as the registry holds it (``earlylink schemas list``)."""

    subject: str
    versions: list[int]
    latest_id: int
    compatibility: str


def schema_of(version: SchemaVersion) -> Schema:
    return Schema(json.dumps(version.definition), "AVRO")


def fingerprint_of(schema_text: str) -> bytes:
    """The CRC-64-AVRO fingerprint of a schema's canonical form (as the catalogue keys them)."""
    canonical = to_parsing_canonical_form(parse_schema(json.loads(schema_text)))
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


class ContractRegistry:
    """The catalogue's contracts in one registry, and the ids messages are framed with."""

    def __init__(self, client: Any, contracts: Catalogue, url: str) -> None:
        self.client = client  # a confluent-kafka SchemaRegistryClient
        self.contracts = contracts
        self.url = url
        self._ids: dict[tuple[str, int], int] = {}  # (event type, version) -> id
        self._by_id: dict[int, SchemaVersion | DecodeReason] = {}

    @classmethod
    def connect(cls, config: dict[str, str], contracts: Catalogue) -> ContractRegistry:
        return cls(SchemaRegistryClient(config), contracts, config["url"])

    def _call(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """One registry request; its errors wrapped with what was asked and where."""
        try:
            return call(*args, **kwargs)
        except SchemaRegistryError as exc:
            if exc.http_status_code is not None and exc.http_status_code >= SERVER_ERROR:
                # the registry's own trouble (its database restarting): worth waiting out
                raise RegistryError(
                    f"schema registry at {self.url} failed ({what}): HTTP {exc.http_status_code}",
                    unavailable=True,
                ) from exc
            raise
        except Exception as exc:  # httpx and socket errors: the registry is away
            raise RegistryError(
                f"schema registry at {self.url} did not answer ({what}): {type(exc).__name__}",
                unavailable=True,
            ) from exc

    def register(self) -> dict[tuple[str, int], int]:
        """Set BACKWARD on every subject and register every version, oldest first (a version
        registered already keeps its id). Refusals name the subject and the registry's reason."""
        for event_type in self.contracts.event_types:
            versions = self.contracts.versions(event_type)
            subject = versions[0].subject
            try:
                self._call("rule", self.client.set_compatibility, subject, COMPATIBILITY)
                for version in versions:
                    schema_id = self._call(
                        "register", self.client.register_schema, subject, schema_of(version)
                    )
                    self._learn(version, int(schema_id))
            except SchemaRegistryError as exc:
                raise RegistryError(refusal(subject, exc)) from exc
        return dict(self._ids)

    def _learn(self, version: SchemaVersion, schema_id: int) -> None:
        self._ids[(version.event_type, version.version)] = schema_id
        self._by_id[schema_id] = version

    def id_of(self, version: SchemaVersion) -> int:
        """The registry id of one of the catalogue's versions (registered at start)."""
        try:
            return self._ids[(version.event_type, version.version)]
        except KeyError:
            raise RegistryError(
                f"{version.subject} v{version.version} is not registered: call register() first"
            ) from None

    def known(self, schema_id: int) -> SchemaVersion | DecodeReason | None:
        """What ``schema_id`` was found to be, None if never looked up: no request made."""
        return self._by_id.get(schema_id)

    def lookup(self, schema_id: int) -> SchemaVersion | DecodeReason:
        """The catalogue version registered as ``schema_id``, else why there is none (the
        registry has no such id; or it holds a schema outside the catalogue); cached."""
        found = self._by_id.get(schema_id)
        if found is not None:
            return found
        try:
            schema = self._call("get schema", self.client.get_schema, schema_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code != NOT_FOUND:
                raise RegistryError(f"schema id {schema_id}: {exc.error_message}") from exc
            self._by_id[schema_id] = DecodeReason.UNKNOWN_SCHEMA_ID
            return DecodeReason.UNKNOWN_SCHEMA_ID
        found = DecodeReason.SCHEMA_OUTSIDE_CATALOGUE
        if schema.schema_type in (None, "AVRO"):
            with contextlib.suppress(ValueError, TypeError, KeyError):  # unparsable: not ours
                found = self.contracts.by_fingerprint(fingerprint_of(schema.schema_str)) or found
        self._by_id[schema_id] = found
        return found

    def check(self) -> list[str]:
        """What registering the catalogue would be refused for: each version tested against its
        subject's latest under the subject's rule (empty: all would be accepted)."""
        problems = []
        subjects = set(self._call("list subjects", self.client.get_subjects))
        for event_type in self.contracts.event_types:
            for version in self.contracts.versions(event_type):
                if version.subject not in subjects:
                    continue
                try:
                    ok = self._call(
                        "test", self.client.test_compatibility, version.subject, schema_of(version)
                    )
                except SchemaRegistryError as exc:
                    problems.append(refusal(version.subject, exc))
                    continue
                if not ok:
                    problems.append(
                        f"{version.subject} v{version.version} is not {COMPATIBILITY}-compatible"
                        " with the version the registry holds"
                    )
        return problems

    def subjects(self) -> list[SubjectState]:
        """Every subject the registry holds, with its versions, latest id and rule."""
        states = []
        for subject in sorted(self._call("list subjects", self.client.get_subjects)):
            versions = self._call("list versions", self.client.get_versions, subject)
            latest = self._call("latest", self.client.get_latest_version, subject)
            try:
                rule = self._call("compatibility", self.client.get_compatibility, subject)
            except SchemaRegistryError:
                rule = "(registry default)"
            states.append(SubjectState(subject, list(versions), int(latest.schema_id), str(rule)))
        return states


def refusal(subject: str, exc: SchemaRegistryError) -> str:
    """A registry refusal as an operator reads it."""
    if exc.http_status_code == CONFLICT:
        return (
            f"the registry refused a schema for {subject}: it is not {COMPATIBILITY}-compatible"
            f" with the versions registered ({exc.error_message})"
        )
    return f"the registry refused {subject} (HTTP {exc.http_status_code}): {exc.error_message}"


_CODECS: dict[tuple[tuple[str, str], ...], Codec] = {}


def codec_for(settings: Settings | None = None, wait_s: float = 0.0) -> Codec:
    """This process's codec for ``settings``' registry (the process-wide settings by default):
    connected and the catalogue registered on first use, waiting up to ``wait_s`` for the
    registry to answer. Without a registry, single-object encoding."""
    settings = settings or get_settings()
    config = settings.registry.client_config(settings.stack)
    key = tuple(sorted(config.items()))
    if key not in _CODECS:
        contracts = catalogue()
        if not config:
            _CODECS[key] = Codec(contracts)
        else:
            registry = ContractRegistry.connect(config, contracts)
            _register_waiting(registry, wait_s)
            _CODECS[key] = Codec(contracts, registry)
    return _CODECS[key]


def _register_waiting(registry: ContractRegistry, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            registry.register()
            return
        except RegistryError as exc:
            if not exc.unavailable or time.monotonic() >= deadline:
                raise
            log.warning("schema registry not answering yet; retrying")
            time.sleep(2.0)
