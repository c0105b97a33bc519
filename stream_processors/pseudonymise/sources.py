"""Whether an event's source system may publish: the register as the pseudonymiser last read
it (``sink.sources``), judged without I/O."""

from __future__ import annotations

from dataclasses import dataclass

from stream_processors.pseudonymise.checks import EventReason


@dataclass(frozen=True)
class Register:
    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    required: bool = False  # False: every source is accepted (the register is not in use)

    def refusal(self, source: str) -> EventReason | None:
        """Why events from ``source`` are refused, or None."""
        if source in self.disabled:
            return EventReason.SOURCE_DISABLED
        if self.required and source not in self.enabled:
            return EventReason.UNREGISTERED_SOURCE
        return None


OPEN = Register()
