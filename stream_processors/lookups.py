"""Registry lookups before a batch is decoded: the one step of decoding that talks to the schema
registry (an id not met before), run off the event loop and waiting out a registry restart.

An id the registry does not know is an answer (the message is dead-lettered as
``UNKNOWN_SCHEMA_ID``); a registry that does not answer is not the message's fault, so the batch
waits, and past the patience the processor stops and replays it after its restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from core.errors import RegistryError
from schemas.wire import Codec
from stream_processors.messages import RawMessage

log = logging.getLogger(__name__)


async def prepare_lookups(
    codec: Codec, batch: Sequence[RawMessage], patience_s: float, pause_s: float = 1.0
) -> None:
    """Look up the batch's unknown schema ids, retrying while the registry is unreachable."""
    values = [m.value for m in batch]
    if not codec.unknown_ids(values):  # the usual case: every id known, no thread hop
        return
    deadline = time.monotonic() + patience_s
    while True:
        try:
            await asyncio.to_thread(codec.prepare, values)
            return
        except RegistryError as exc:
            if not exc.unavailable or time.monotonic() >= deadline:
                raise
            first = batch[0]
            log.warning(
                "schema registry unreachable at %s[%d]@%d; waiting",
                first.topic,
                first.partition,
                first.offset,
            )
            await asyncio.sleep(pause_s)
