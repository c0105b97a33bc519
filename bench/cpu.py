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


def _machine() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / TICKS, idle / TICKS


class CpuMeter:
    """CPU seconds per part between ``start`` and ``stop`` (processes that exit meanwhile are
    counted up to their last sample; sample often with ``sample`` for short-lived ones), and
    for the machine as a whole: ``other`` (busy in processes outside the pipeline, e.g. the
    benchmark's own producer and probes, and the kernel) and ``idle``."""

    def __init__(self) -> None:
        self._first: dict[int, tuple[str, float]] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._machine = (0.0, 0.0)

    def start(self) -> None:
        self._first = _processes()
        self._last = dict(self._first)
        self._machine = _machine()

    def sample(self) -> None:
        for pid, (part, seconds) in _processes().items():
            self._first.setdefault(pid, (part, seconds))
            self._last[pid] = (part, seconds)

    def stop(self) -> dict[str, float]:
        self.sample()
        used: dict[str, float] = defaultdict(float)
        for pid, (part, seconds) in self._last.items():
            used[part] += seconds - self._first[pid][1]
        busy, idle = (now - then for now, then in zip(_machine(), self._machine, strict=True))
        used["other"] = max(busy - sum(used[p] for p in PARTS), 0.0)
        used["idle"] = idle
        return used
