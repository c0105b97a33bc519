"""Rate limiting and progress for long publishing runs."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")


class RateLimiter:
    """Allows ``rate`` items per second on average (``None`` or 0: unlimited)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now - 1.0) + self.interval  # at most 1 s of burst


def progress_bar(transient: bool = False) -> Progress:
    """A progress bar showing count, rate and time left."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[cyan]{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=transient,
    )


def paced(
    items: Iterable[T], total: int, rate: float | None, description: str, show: bool = True
) -> Iterator[T]:
    """Yield items at most ``rate`` per second, with a progress bar."""
    limiter = RateLimiter(rate)
    started = time.monotonic()
    with progress_bar() as progress:
        task = progress.add_task(description, total=total, rate="", visible=show)
        for done, item in enumerate(items, start=1):
            limiter.wait()
            yield item
            if done % 500 == 0 or done == total:
                speed = done / max(time.monotonic() - started, 1e-9)
                progress.update(task, completed=done, rate=f"{speed:,.0f}/s")
