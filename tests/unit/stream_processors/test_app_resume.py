"""Resuming at the offsets stored with the writes: the seeks run on the consumer's own thread."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from faust.types import TP

from stream_processors.app import seek_to_stored


class Consumer:
    """faust's consumer as ``seek_to_stored`` sees it: ``seek`` runs in the caller's thread
    (faust's aiokafka driver calls aiokafka's ``seek`` there, while its fetcher thread may be
    draining the same partition: a rebalance then crashes the worker with a KeyError in
    ``Fetcher.fetched_records``); ``seek_wait`` runs on the consumer's thread."""

    def __init__(self, assigned: set[TP]) -> None:
        self.assigned = assigned
        self.waited: list[dict[TP, int]] = []

    def assignment(self) -> set[TP]:
        return self.assigned

    async def seek(self, tp: TP, offset: int) -> None:
        raise AssertionError("seek from the caller's thread races the fetcher's thread")

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        self.waited.append(dict(partitions))


def test_partitions_move_to_their_stored_offsets_in_one_seek_on_the_consumers_thread() -> None:
    a, b, c, d = (TP("raw", p) for p in range(4))
    consumer = Consumer({a, b, c, d})
    kafka = {a: 10, b: 20, c: 30, d: 40}
    stored = {("raw", 0): 7, ("raw", 1): 20, ("raw", 2): 35, ("other", 3): 1}
    positions = asyncio.run(seek_to_stored(consumer, kafka, stored))
    assert consumer.waited == [{a: 7, c: 35}]  # back, forward; b is there; d has none stored
    assert positions == {a: 7, b: 20, c: 35, d: 40}
    nothing = Consumer({b})
    assert asyncio.run(seek_to_stored(nothing, kafka, stored)) == kafka
    assert nothing.waited == []
