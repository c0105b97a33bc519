"""CPU time spent by each part of the pipeline over a measured interval (Linux /proc), so a
throughput can be read as CPU per event per process: where the two cores go."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")

#: part of the pipeline -> what its command line contains
PARTS = {
    "pseudonymise": "earlylink run pseudonymise",
    "resolve": "earlylink run resolve",
    "PostgreSQL": "postgres",
    "Kafka": "kafka.Kafka",
}


def _processes() -> dict[int, tuple[str, float]]:
    """pid -> (part, CPU seconds so far) for every process of the pipeline."""
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        part = next((p for p, marker in PARTS.items() if marker in command), None)
        if part is not None:
            found[int(entry.name)] = (part, (int(fields[11]) + int(fields[12])) / TICKS)
    return found


class CpuMeter:
    """CPU seconds per part between ``start`` and ``stop`` (processes that exit meanwhile are
    counted up to their last sample; sample often with ``sample`` for short-lived ones)."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[str, float]] = {}
        self._last: dict[int, tuple[str, float]] = {}

    def start(self) -> None:
        self._first = _processes()
        self._last = dict(self._first)

    def sample(self) -> None:
        for pid, (part, seconds) in _processes().items():
            self._first.setdefault(pid, (part, seconds))
            self._last[pid] = (part, seconds)

    def stop(self) -> dict[str, float]:
        self.sample()
        used: dict[str, float] = defaultdict(float)
        for pid, (part, seconds) in self._last.items():
            used[part] += seconds - self._first[pid][1]
        return used
