"""Poison messages cost one message, not the processor.

A batch whose write fails for a reason a retry cannot mend (a value PostgreSQL refuses, a
defect) is tried again a bounded number of times, then written again in halves, and so on down
to the one message that fails alone: that one is quarantined with its position and reason, and
everything around it lands in order. Failures that are about the services, not the message
(PostgreSQL or Kafka away: ``TRANSIENT``), are not isolated: they keep the retry-then-exit
behaviour of ``sink.connection.Durable`` and ``stream_processors.app.exit_on_failure``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from core.errors import DeliveryError, SinkUnavailable
from sink.connection import ConnectionLost
from stream_processors.messages import RawMessage

log = logging.getLogger(__name__)
R = TypeVar("R")
TRANSIENT = (ConnectionLost, SinkUnavailable, DeliveryError)
BATCH_ATTEMPTS = 2  # the whole batch; each half is tried once


def failure_reason(exc: BaseException) -> str:
    """The innermost cause's type: its message could quote a field's value."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return type(exc).__name__


async def write_isolating(
    stage: str,
    batch: Sequence[RawMessage],
    write: Callable[[Sequence[RawMessage]], Awaitable[R]],
    quarantine: Callable[[RawMessage, str], Awaitable[None]],
    attempts: int = BATCH_ATTEMPTS,
) -> list[R]:
    """``write`` the batch; when it keeps failing, bisect it and ``quarantine`` each message
    that fails alone. Returns what each landed part's ``write`` returned, in order."""
    failure: Exception | None = None
    for _ in range(attempts):
        try:
            return [await write(batch)]
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 (any other failure: isolate the message)
            failure = exc
    assert failure is not None  # attempts >= 1
    first = batch[0]
    log.warning(
        "%s: %d messages from %s[%d]@%d failed (%s); isolating",
        stage,
        len(batch),
        first.topic,
        first.partition,
        first.offset,
        failure_reason(failure),
    )
    if len(batch) == 1:
        await quarantine(first, failure_reason(failure))
        log.error(
            "%s: quarantined %s[%d]@%d (%s)",
            stage,
            first.topic,
            first.partition,
            first.offset,
            failure_reason(failure),
        )
        return []
    middle = len(batch) // 2
    landed = await write_isolating(stage, batch[:middle], write, quarantine, 1)
    return landed + await write_isolating(stage, batch[middle:], write, quarantine, 1)
