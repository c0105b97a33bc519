"""The status page in a real headless browser (Debian's chromium) while the pipeline runs:
the page's own JavaScript must draw non-empty charts from live data."""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from core.settings import Settings
from producers.synthetic.publish import publish_borough
from stream_processors.app import WEB_PORT_OFFSET
from tests.conftest import run_chromium as _chromium
from tests.conftest import wait_pipeline_caught_up


def test_status_page_draws_live_charts(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Path
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings)
    publish_borough(settings, 60, 4, 0, tmp_path, show_progress=False)
    wait_pipeline_caught_up(settings, pseudo, resolve)

    # a source name written as markup (past every check, straight into the ledger): the page
    # shows it as text, and its Content-Security-Policy would stop it running anyway
    hostile = "<img src=x onerror=\"document.title='pwned'\">"
    with psycopg.connect(settings.database_dsn) as conn:
        conn.execute(
            "INSERT INTO ingest_ledger (topic, kafka_partition, kafka_offset, outcome,"
            " source_system) VALUES ('elsewhere', 0, 0, 'PSEUDONYMISED', %s)",
            (hostile,),
        )
    url = f"http://127.0.0.1:{settings.processor.web_port + WEB_PORT_OFFSET['resolve']}/status"
    with urllib.request.urlopen(url, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    dom = _chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert "<img" not in dom and "pwned" not in dom.split("</title>", 1)[0]
    assert "&lt;img src=x" in dom, "the hostile name should be shown as text"
    assert "<polyline" in dom, "throughput chart is empty"
    latency = dom.split('id="latency"', 1)[1].split("</svg>", 1)[0]
    assert latency.count("<rect") == 3, "latency chart should have p50/p95/p99 bars"
    quality = dom.split('id="quality"', 1)[1].split("</table>", 1)[0]
    assert quality.count("<tr>") > 5, "data-quality table should list the sources"
    assert '<span id="updated">updated ' in dom, "the page's data request failed"

    shot = tmp_path / "status.png"
    _chromium([f"--screenshot={shot}", "--window-size=1280,900", url], tmp_path / "profile-png")
    assert shot.exists() and shot.stat().st_size > 20_000
    keep = Path("out") / "status-page.png"
    keep.parent.mkdir(exist_ok=True)
    shutil.copy(shot, keep)  # for a person to look at
