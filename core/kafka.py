"""Kafka client defaults every producer of the project shares, and the topics' size limits."""

from __future__ import annotations

from typing import Any

# idempotent, acknowledged by every in-sync replica, batched and compressed
PRODUCER_DEFAULTS: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "linger.ms": 10,
    "batch.num.messages": 10_000,
    "compression.type": "lz4",
    "message.timeout.ms": 120_000,
    "queue.buffering.max.messages": 200_000,
}

# A dead letter is the raw message (up to the raw topic's ~1 MB) plus headers naming the reason
# and position: its topic, and the processors' producer, take more than a raw message can be.
DEAD_LETTER_MAX_BYTES = 2 * 1024 * 1024
