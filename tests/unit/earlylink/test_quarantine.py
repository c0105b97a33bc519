"""Replaying the resolver's quarantine waits for room in a full producer queue."""

from __future__ import annotations

from typing import Any

from earlylink.quarantine import _produce


class FullOnce:
    """A producer whose local queue is full at the first send (what confluent-kafka raises)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.polls: list[float] = []
        self._full = True

    def produce(self, topic: str, **message: Any) -> None:
        if self._full:
            self._full = False
            raise BufferError("Local: Queue full")
        self.sent.append((topic, message))

    def poll(self, timeout: float) -> int:
        self.polls.append(timeout)
        return 0


def test_a_full_queue_is_waited_for_and_the_message_sent_once() -> None:
    producer = FullOnce()
    _produce(producer, "t", value=b"v", key=b"k")  # type: ignore[arg-type]
    assert producer.sent == [("t", {"value": b"v", "key": b"k"})]
    assert producer.polls == [1.0, 0]
