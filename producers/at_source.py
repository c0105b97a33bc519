"""Pseudonymise at source: a service runs the same pseudonymisation library and publishes only
tokens to the pseudonymised topic, so raw identifiers never leave the service.

The service needs the programme's master secret (tokens must match across services to link).
Events that would be dead-lettered centrally are refused here instead and reported to the
caller with their reason; nothing raw is sent anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import TracebackType

from core.errors import ConfigurationError
from core.settings import Settings
from producers.publisher import DeliveryReport, Publisher
from schemas.models import Event
from schemas.registry import codec_for
from schemas.wire import encode
from sink.rows import Outcome
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keyfiles import load_keyring
from stream_processors.pseudonymise.rules import rules_from
from stream_processors.pseudonymise.stage import Pseudonymiser


class AtSourcePublisher:
    """Publishes events as pseudonymised messages; a drop-in for ``Publisher`` in producers."""

    def __init__(self, settings: Settings) -> None:
        keyring = load_keyring(settings)
        codec = codec_for(settings)
        self.contracts = codec.contracts
        versions = tuple(int(v) for v in settings.pseudonymisation.key_versions.split(","))
        missing = [v for v in versions if v not in keyring.secrets]
        if missing:
            raise ConfigurationError(
                f"EARLYLINK_PSEUDONYMISATION_KEY_VERSIONS names version {missing[0]}, which has"
                f" no key file in {settings.key_dir}"
            )
        self.stage = Pseudonymiser(
            self.contracts,
            keyring,
            Encoder(keyring),
            rules_from(settings.linkage),
            codec=codec,
            versions=versions,
        )
        self.publisher = Publisher(
            settings.kafka, settings.kafka.topic("pseudonymised"), codec=codec
        )
        self.refused: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()

    @property
    def report(self) -> DeliveryReport:
        return self.publisher.report

    def publish(self, event: Event) -> None:
        version = self.contracts.get(event.EVENT_TYPE, event.envelope.schema_version)
        # handed to the stage in this process: single-object, no registry id needed
        message = RawMessage("at-source", 0, 0, encode(version, event.to_avro()))
        result = self.stage.process(message, dt.datetime.now(dt.UTC))
        self.outcomes[result.entry.outcome.value] += 1
        if result.entry.outcome is Outcome.DEAD_LETTERED or result.value is None:
            self.refused[result.entry.reason or "UNKNOWN"] += 1
            return
        self.publisher.publish_raw(result.value, result.key)

    def flush(self, timeout_s: float = 120.0) -> DeliveryReport:
        return self.publisher.flush(timeout_s)

    def __enter__(self) -> AtSourcePublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.publisher.__exit__(exc_type, exc, tb)
