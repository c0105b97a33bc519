"""Publishing identity changes from the graph's outbox (``identity_history``, written in each
batch's transaction) to the identity-change topic: after every batch and when the resolver
starts, so a crash between a commit and its publication loses nothing.

At least once, in order per person: each message carries its subject's sequence number (1, 2,
...); a consumer drops a sequence it has seen and knows a gap means a message still to come.
Messages are ``IdentityChange`` records (``schemas/avro/IdentityChange.v1.avsc``), framed by the
codec like every other topic's.
"""

from __future__ import annotations

from functools import partial

from schemas.wire import Codec
from sink import graph
from sink.connection import Durable
from stream_processors.output import BatchProducer

CLAIM = 1000  # changes published per transaction


def change_message(change: graph.IdentityChange, codec: Codec) -> tuple[bytes, bytes]:
    """(key, value) of one change: keyed by its subject, so one person's changes keep order."""
    value = {
        "kind": change.kind,
        "before": list(change.before),
        "after": list(change.after),
        "subject": change.subject,
        "sequence": change.sequence,
        "at": change.at,
        "model_version": change.model_version,
    }
    version = codec.contracts.latest("IdentityChange")
    return change.subject.encode(), codec.encode(version, value)


async def _publish_some(
    conn: graph.Conn, *, out: BatchProducer, topic: str, codec: Codec, limit: int
) -> int:
    async with conn.transaction():
        changes = await graph.claim_unpublished(conn, limit)
        for change in changes:
            key, value = change_message(change, codec)
            out.send(topic, key, value)
        await out.flush()  # Kafka has them before they are marked
        await graph.mark_published(conn, [c.id for c in changes])
    return len(changes)


async def publish_pending(
    db: Durable, out: BatchProducer, topic: str, codec: Codec, limit: int = CLAIM
) -> int:
    """Publish every change not yet published; returns how many."""
    total = 0
    publish = partial(_publish_some, out=out, topic=topic, codec=codec, limit=limit)
    while True:
        sent = int(await db.run(publish))
        total += sent
        if sent < limit:
            return total
