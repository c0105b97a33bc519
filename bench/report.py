"""The partnership report on a programme-sized store: a borough (default 15,000 families, the
programme's size) loaded into a scratch database, then ``earlylink report`` made from it as the
analyst role. Prints the time to read the views alone (the SQL floor) beside the whole report
(views, nine charts, the page, the CSVs), against the 30 s target.

``python -m bench.report [--families N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import Row, scratch
from bench.store import load_borough
from earlylink.report.build import build_report
from earlylink.report.period import quarter_end
from sink.report import latest_quarter, read_report
from sink.summary import headline

TARGET_S = 30.0


def main() -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--families", type=int, default=15_000)
    args = parser.parse_args()
    with scratch(16092) as settings:
        started = time.monotonic()
        events = load_borough(settings, args.families)
        load_s = time.monotonic() - started
        dsn = settings.as_login("analyst").database_dsn
        persons = headline(settings.database_dsn).persons
        latest = latest_quarter(dsn)
        assert latest is not None
        began = time.monotonic()
        read_report(dsn, latest, quarter_end(latest))
        views_s = time.monotonic() - began
        with tempfile.TemporaryDirectory() as folder:
            made = build_report(dsn, Path(folder) / "report.html", Path(folder) / "csv")
            size = made.html.stat().st_size
    print(
        f"\n### The partnership report ({args.families:,} families, {events:,} events,"
        f" {persons:,} persons; store loaded in {load_s:,.0f} s)\n"
    )
    print("| step | seconds | target |\n| --- | --- | --- |")
    print(f"| read every view as the analyst (SQL floor) | {views_s:.1f} | |")
    print(
        f"| whole report: views, 9 charts, page ({size / 1024:,.0f} KiB), CSVs |"
        f" {made.seconds:.1f} | ≤ {TARGET_S:.0f} |"
    )
    return [
        (
            f"partnership report, {args.families:,} families",
            f"{made.seconds:.1f} s (views alone {views_s:.1f} s)",
            f"≤ {TARGET_S:.0f} s",
        )
    ]


if __name__ == "__main__":
    main()
