"""Pseudonymise stage throughput on the synthetic borough.

Two figures: the pure stage alone (decode, validate, tokens, encodings, encode; one core), and
the faust agent end to end on the real stack (raw topic -> pseudonymised topic + ledger and
offsets in PostgreSQL), measured from the moment the borough is in Kafka until the agent has
committed all of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from bench.common import SECRET, drain_rate, scratch
from core.settings import ProcessorSettings
from producers.publisher import Publisher
from producers.synthetic.timeline import BoroughGenerator
from schemas.catalogue import catalogue
from schemas.wire import encode
from stream_processors.messages import RawMessage
from stream_processors.pseudonymise.bloom import Encoder
from stream_processors.pseudonymise.keys import Keyring
from stream_processors.pseudonymise.stage import Pseudonymiser


def pure_rate(events: list) -> float:  # type: ignore[type-arg]
    contracts = catalogue()
    messages = [
        RawMessage(
            "raw", 0, i, encode(contracts.get(e.EVENT_TYPE, e.envelope.schema_version), e.to_avro())
        )
        for i, e in enumerate(events)
    ]
    ring = Keyring({1: bytes.fromhex(SECRET)}, 1)
    stage = Pseudonymiser(contracts, ring, Encoder(ring))
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    for message in messages:
        stage.process(message, now)
    return len(messages) / (time.perf_counter() - started)


def agent_rate(events: list, batch_size: int) -> float:  # type: ignore[type-arg]
    with scratch(16099) as settings:
        with Publisher(settings.kafka, settings.kafka.topic("raw")) as publisher:
            for event in events:
                publisher.publish(event)
        return drain_rate(settings, "pseudonymise", "raw", 1, 16099, batch_size=str(batch_size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=ProcessorSettings().batch_size)
    args = parser.parse_args()
    events = BoroughGenerator(args.families, 7).events()
    print(f"\n### Pseudonymise stage ({len(events):,} events, {args.families:,} families)\n")
    print("| measure | events/s |\n| --- | --- |")
    print(f"| pure stage, one core | {pure_rate(events):,.0f} |")
    print(
        f"| faust agent end to end (batch {args.batch_size}) | "
        f"{agent_rate(events, args.batch_size):,.0f} |"
    )


if __name__ == "__main__":
    main()
