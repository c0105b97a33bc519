"""Whether an event's source system may publish: the register as the pseudonymiser last read
it (``sink.sources``), judged without I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from stream_processors.pseudonymise.checks import EventReason


@dataclass(frozen=True)
class Register:
    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    required: bool = False  # False: every source is accepted (the register is not in use)
    topics: Mapping[str, str] = field(default_factory=dict)  # own raw topic -> its source

    def refusal(self, source: str, topic: str) -> EventReason | None:
        """Why events naming ``source``, read from ``topic``, are refused, or None. A source
        with a topic of its own (which only it may write) is believed there only, and its
        topic carries no other source's events."""
        owner = self.topics.get(topic)
        if owner is not None and source != owner:
            return EventReason.SOURCE_MISMATCH
        if owner is None and source in self.topics.values():
            return EventReason.SOURCE_MISMATCH
        if source in self.disabled:
            return EventReason.SOURCE_DISABLED
        if self.required and source not in self.enabled:
            return EventReason.UNREGISTERED_SOURCE
        return None


OPEN = Register()
