"""Which sources the pseudonymiser believes: the register, and sources bound to own topics."""

from __future__ import annotations

import pytest

from stream_processors.pseudonymise.checks import EventReason
from stream_processors.pseudonymise.sources import OPEN, Register

REGISTER = Register(
    enabled=frozenset({"hv", "cc"}),
    disabled=frozenset({"old"}),
    required=True,
    topics={"el.raw.hv": "hv"},
)


@pytest.mark.parametrize(
    ("source", "topic", "refusal"),
    [
        ("cc", "el.raw", None),
        ("hv", "el.raw.hv", None),
        ("hv", "el.raw", EventReason.SOURCE_MISMATCH),  # hv's name off hv's own topic
        ("cc", "el.raw.hv", EventReason.SOURCE_MISMATCH),  # another name on hv's topic
        ("old", "el.raw", EventReason.SOURCE_DISABLED),
        ("anyone", "el.raw", EventReason.UNREGISTERED_SOURCE),
    ],
)
def test_refusals(source: str, topic: str, refusal: EventReason | None) -> None:
    assert REGISTER.refusal(source, topic) is refusal


def test_without_the_register_only_disabled_sources_are_refused() -> None:
    assert OPEN.refusal("anyone", "el.raw") is None
    relaxed = Register(frozenset(), frozenset({"old"}), required=False)
    assert relaxed.refusal("anyone", "el.raw") is None
    assert relaxed.refusal("old", "el.raw") is EventReason.SOURCE_DISABLED
