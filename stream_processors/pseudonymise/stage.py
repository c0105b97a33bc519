"""The pseudonymise stage for one raw message: decode -> consent gate -> validate -> tokens.

Every message gets exactly one outcome: PSEUDONYMISED (forwarded), SUPPRESSED (consent does not
allow linkage: forwarded as a marker with no tokens, so earlier links can be undone) or
DEAD_LETTERED (with a reason code). The ledger entry it returns carries no identifier.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from schemas.catalogue import Catalogue
from schemas.limits import MAX_MESSAGE_BYTES, MAX_OUTPUT_BYTES
from schemas.tokens import token_sets
from schemas.wire import Codec, Decoded, DecodeError
from sink.rows import LedgerEntry, Outcome
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import ENCODING_KEYS, Encoder
from stream_processors.pseudonymise.checks import event_problem, source_problem
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.rules import DEFAULT_RULES, Rules
from stream_processors.pseudonymise.sources import OPEN, Register
from stream_processors.pseudonymise.tokens import person_tokens
from stream_processors.pseudonymise.validate import (
    CleanPerson,
    RecordReason,
    clean_person,
)

RAW_TYPES = frozenset(
    {"PersonRecord", "ServiceContact", "OutcomeMeasure", "ConsentChange", "RecordRetraction"}
)
ACTIVITY_KIND = {
    "ServiceContact": "CONTACT",
    "OutcomeMeasure": "OUTCOME",
    "ConsentChange": "CONSENT_CHANGE",
    "RecordRetraction": "RETRACTION",
}


class StageReason(StrEnum):
    """Dead-letter reasons of the stage itself (past decoding and validation)."""

    MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"  # over schemas.limits.MAX_MESSAGE_BYTES, not decoded
    OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE"  # its pseudonymised form over MAX_OUTPUT_BYTES
    PROCESSING_ERROR = "PROCESSING_ERROR"  # the stage failed on it (a defect: see the detail)


def without_consent(decoded: Decoded) -> bool:
    return decoded.event_type == "PersonRecord" and decoded.record.get("consent") != "PERMITTED"


@dataclass(frozen=True)
class Result:
    """The ledger entry and, unless dead-lettered, the pseudonymised message to forward."""

    entry: LedgerEntry
    key: bytes | None = None
    value: bytes | None = None
    details: dict[str, str] = field(default_factory=dict)
    # dead-lettered, but the person did not consent to linkage: the dead letter carries the
    # reason and position only, never the record (which would keep their identifiers there)
    withheld: bool = False


@dataclass
class Pseudonymiser:
    """Holds the stage's configuration: contracts, keys, encoder, validation rules."""

    contracts: Catalogue
    keyring: Keyring
    encoder: Encoder
    rules: Rules = DEFAULT_RULES
    sources: Register = OPEN  # the register of sources, as last read (refreshed by the agent)
    codec: Codec | None = None  # reads both framings, writes its own; default: single-object
    # key versions tokens and encodings are made under: the store's, then the next while keys
    # rotate (refreshed by the agent from the rotation state; every one has a secret here)
    versions: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        self.wire = self.codec or Codec(self.contracts)

    def process(self, message: RawMessage, now: dt.datetime) -> Result:
        """Exactly one result per message: no message can make the stage raise."""
        if len(message.value) > MAX_MESSAGE_BYTES:
            return self._dead(
                message, StageReason.MESSAGE_TOO_LARGE, f"{len(message.value)} bytes, not decoded"
            )
        try:
            result = self._consent_first(message, now)
        except Exception as exc:  # noqa: BLE001 (a defect must cost one message, not the stage)
            # the error's type only: its message could quote a field's value
            return self._dead(message, StageReason.PROCESSING_ERROR, type(exc).__name__)
        if result.value is not None and len(result.value) > MAX_OUTPUT_BYTES:
            return self._dead(
                message, StageReason.OUTPUT_TOO_LARGE, f"{len(result.value)} bytes pseudonymised"
            )
        return result

    def _consent_first(self, message: RawMessage, now: dt.datetime) -> Result:
        """The consent gate before every rejection: once the record decodes, a person who did
        not consent is never dead-lettered with their record, whatever else is wrong."""
        try:
            decoded = self.wire.decode(message.value)
        except DecodeError as exc:
            return self._dead(message, exc.reason.value, str(exc))
        result = self._process(message, decoded, now)
        if result.entry.outcome is Outcome.DEAD_LETTERED and without_consent(decoded):
            return replace(result, withheld=True)
        return result

    def withheld(self, message: RawMessage) -> bool:
        """Whether a message is a person record without consent to linkage (its dead letter,
        or quarantine copy, must carry no record)."""
        try:
            return without_consent(self.wire.decode(message.value))
        except DecodeError:
            return False

    def _process(self, message: RawMessage, decoded: Decoded, now: dt.datetime) -> Result:
        raw_timestamp_ms = message.timestamp_ms
        record = decoded.record
        envelope = record["envelope"]
        base = {  # the event id as the outgoing envelope carries it (reconcile joins on it)
            "event_id": str(self.keyed_event_id(envelope)),
            "source_system": envelope["source_system"],
            "event_type": decoded.event_type,
            "event_time": envelope["event_time"],
        }
        bad_source = source_problem(base["source_system"])
        if bad_source is not None:
            base["source_system"] = "unknown"  # no text of it reaches the ledger
            return self._dead(message, bad_source.reason, bad_source.field, base)
        refused = self.sources.refusal(base["source_system"], message.topic)
        if refused is not None:
            return self._dead(message, refused, "source_system", base)
        if decoded.event_type not in RAW_TYPES:
            return self._dead(
                message,
                RecordReason.FOREIGN_SCHEMA,
                f"{decoded.event_type} does not belong on the raw topic",
                base,
            )
        if envelope["event_time"] > now + dt.timedelta(minutes=10):
            return self._dead(message, RecordReason.EVENT_TIME_IN_FUTURE, "event time ahead", base)
        problem = event_problem(decoded.event_type, record)
        if problem is not None:
            return self._dead(message, problem.reason, problem.field, base)
        if decoded.event_type == "PersonRecord":
            return self._person(message, record, base, raw_timestamp_ms)
        return self._activity(message, decoded.event_type, record, base, raw_timestamp_ms)

    @staticmethod
    def outgoing_envelope(envelope: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
        """The envelope the pseudonymised topic and the store see: the event id keyed (a
        source's own event log cannot join it back to a raw identity; repeats keep one id),
        and the event time cut to its month (for a births feed the exact event time is the
        date of birth, which the record's DOB token would then give away). ``base``: the
        ledger's view of the event, whose event id is already keyed (``keyed_event_id``)."""
        when = envelope["event_time"]
        month = when.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return {**envelope, "event_id": uuid.UUID(base["event_id"]), "event_time": month}

    def keyed_event_id(self, envelope: dict[str, Any]) -> uuid.UUID:
        """The event id under the key: the same for repeats, unknown to the source's log. The
        ledger keeps this one too, so no table holds a raw event id."""
        keyed = self.keyring.identifier(
            "event", f"{envelope['source_system']}|{envelope['event_id']}"
        )
        return uuid.UUID(bytes=keyed[:16])

    def record_key(self, source: str, record_id: str) -> str:
        return self.keyring.identifier("record", f"{source}|{record_id}").hex()

    def _person(
        self, message: RawMessage, record: dict[str, Any], base: dict[str, Any], raw_ts: int | None
    ) -> Result:
        source = base["source_system"]
        key = self.record_key(source, record["record_id"])
        permitted = record["consent"] == "PERMITTED"
        clean = (
            clean_person(record, base["event_time"].date(), self.rules)
            if permitted
            else CleanPerson()
        )
        if permitted and not clean.identifying:
            return self._dead(
                message,
                RecordReason.NO_IDENTIFYING_FIELD,
                "no usable identifying field",
                base,
                clean,
            )
        pseudo = {
            "envelope": self.outgoing_envelope(record["envelope"], base),
            "record_key": key,
            "record_version": record["record_version"],
            "role": record["role"],
            "sex": record["sex"],
            "consent": record["consent"],
            "area": clean.postcode.district if clean.postcode else None,
            "key_version": self.versions[0],
            "tokens": [],  # PseudoRecord v4: the tokens are in token_sets
            "token_sets": token_sets(
                person_tokens(clean, self.keyring, self.rules, self.versions) if permitted else []
            ),
            "encodings": self._encodings(clean) if permitted else [],
            "related": [
                {"relationship": relationship, "record_key": self.record_key(source, record_id)}
                for relationship, record_id in clean.related
            ],
            "field_issues": [f"{f}:{i.value}" for f, i in clean.issues],
            "raw_timestamp_ms": raw_ts,
        }
        outcome = Outcome.PSEUDONYMISED if permitted else Outcome.SUPPRESSED
        entry = self._entry(
            message,
            outcome,
            base,
            clean,
            reason=None if permitted else f"CONSENT_{record['consent']}",
        )
        return Result(
            entry, key.encode(), self.wire.encode(self.contracts.latest("PseudoRecord"), pseudo)
        )

    def _encodings(self, clean: CleanPerson) -> list[dict[str, Any]]:
        values = {
            "given": clean.given.full if clean.given else None,
            "family": clean.family.core if clean.family else None,
            "address": clean.address,
            "locality": clean.locality,
        }
        keys = ENCODING_KEYS
        return [
            {"kind": kind, "bits": self.encoder.encode(keys[kind], value, v), "key_version": v}
            for kind, value in values.items()
            if value
            for v in self.versions
        ]

    def _activity(
        self,
        message: RawMessage,
        event_type: str,
        record: dict[str, Any],
        base: dict[str, Any],
        raw_ts: int | None,
    ) -> Result:
        source = base["source_system"]
        record_id = record.get("person_record_id") or record["record_id"]
        key = self.record_key(source, record_id)
        item = record.get("contact_id") or record.get("measure_id")
        pseudo = {
            "envelope": self.outgoing_envelope(record["envelope"], base),
            "kind": ACTIVITY_KIND[event_type],
            "record_key": key,
            "item_key": self.keyring.identifier("item", f"{source}|{item}").hex() if item else None,
            "service_code": record.get("service_code"),
            "activity_code": record.get("activity_code"),
            "contact_type": record.get("contact_type"),
            "on_date": record.get("contact_date") or record.get("measured_on"),
            "location_code": record.get("location_code"),
            "tool_code": record.get("tool_code"),
            "domain": record.get("domain"),
            "score": record.get("score"),
            "consent": record.get("new_state"),
            "reason": record.get("reason"),
            "raw_timestamp_ms": raw_ts,
        }
        entry = self._entry(message, Outcome.PSEUDONYMISED, base, None)
        return Result(
            entry, key.encode(), self.wire.encode(self.contracts.latest("PseudoActivity"), pseudo)
        )

    @staticmethod
    def _entry(
        message: RawMessage,
        outcome: Outcome,
        base: dict[str, Any],
        clean: CleanPerson | None,
        reason: str | None = None,
    ) -> LedgerEntry:
        return LedgerEntry(
            message.topic,
            message.partition,
            message.offset,
            outcome,
            reason,
            **base,
            fields_present=clean.present_mask if clean else 0,
            field_issues=tuple(f"{f}:{i.value}" for f, i in clean.issues) if clean else (),
            transliterated=clean.transliterated if clean else 0,
            replayed_from=message.replayed_from,
        )

    def _dead(
        self,
        message: RawMessage,
        reason: str,
        detail: str,
        base: dict[str, Any] | None = None,
        clean: CleanPerson | None = None,
    ) -> Result:
        entry = self._entry(message, Outcome.DEAD_LETTERED, base or {}, clean, reason=reason)
        return Result(entry, details={"reason": reason, "detail": detail})
