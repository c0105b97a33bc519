"""A bounded cache of decoded records by key and version, so the resolver does not decode the
same stored payload again for every batch that touches it. Oldest entries go first once the
cache is full, so memory stays bounded however long the resolver runs."""

from __future__ import annotations

from collections import OrderedDict

from stream_processors.resolve.records import LinkRecord


class RecordCache:
    """key -> (version, record), at most ``capacity`` entries (first in, first out)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the record cache needs room for at least one record")
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[int, LinkRecord]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, version: int) -> LinkRecord | None:
        """The record cached for ``key`` if it is at ``version``."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] == version else None

    def put(self, key: str, version: int, record: LinkRecord) -> None:
        self._entries[key] = (version, record)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
