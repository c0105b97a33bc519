"""Operations on real services: lag rises while the resolver is stopped and falls after it
starts; each stage serves Prometheus metrics and a health check."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.settings import Settings
from earlylink.processors import stage_status
from producers.synthetic.publish import publish_borough
from stream_processors.app import WEB_PORT_OFFSET
from stream_processors.lag import lag_rows
from tests.conftest import wait_caught_up


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # a 503 still has its JSON body
        return error.code, error.read().decode()


def _lag(settings: Settings, stage: str) -> int:
    return sum(r.lag for r in lag_rows(settings) if r.group.endswith(stage))


def test_lag_and_metrics(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Path
) -> None:
    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    publish_borough(settings, 40, 2, 0, tmp_path, show_progress=False)
    wait_caught_up(settings, "pseudonymise", settings.kafka.topic("raw"), pseudo)

    waiting = _lag(settings, "resolve")  # the resolver is not running: its input piles up
    assert waiting > 1000
    assert any(
        r.lag_seconds and r.lag_seconds > 0
        for r in lag_rows(settings)
        if r.group.endswith("resolve")
    )

    resolve = run_processor("resolve", settings)
    wait_caught_up(settings, "resolve", settings.kafka.topic("pseudonymised"), resolve)
    assert _lag(settings, "resolve") == 0

    base = settings.processor.web_port
    for stage, proc in (("pseudonymise", pseudo), ("resolve", resolve)):
        port = base + WEB_PORT_OFFSET[stage]
        status, body = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        counted = [
            float(line.rsplit(" ", 1)[1])
            for line in body.splitlines()
            if line.startswith("earlylink_events_total{") and f'stage="{stage}"' in line
        ]
        assert counted and sum(counted) > 0
        assert "kafka_consumergroup_lag{" in body
        assert "earlylink_end_to_end_latency_seconds_bucket" in body
        status, body = _get(f"http://127.0.0.1:{port}/health")
        health = json.loads(body)
        assert status == 200 and health["stage"] == stage and health["status"] == "ok"
        assert proc.poll() is None
        live = stage_status(settings, stage)
        assert live is not None and live["events"] > 0 and live["latency_s"]["p50"] is not None


def test_health_turns_unhealthy_while_a_batch_cannot_land(
    fresh_settings: Settings, run_processor: Callable[..., Any], tmp_path: Any
) -> None:
    """The resolver cannot write while another session holds the graph lock: its /health
    answers 503 ("stalled") until the lock goes, then 200 again, and nothing is lost."""
    import psycopg

    from sink.graph import GRAPH_LOCK
    from tests.conftest import wait_pipeline_caught_up

    settings = fresh_settings
    pseudo = run_processor("pseudonymise", settings)
    resolve = run_processor("resolve", settings, EARLYLINK_PROCESSOR_STALLED_AFTER_S="1")
    url = f"http://127.0.0.1:{settings.processor.web_port + WEB_PORT_OFFSET['resolve']}/health"
    with psycopg.connect(settings.database_dsn, autocommit=True) as blocker:
        blocker.execute("SELECT pg_advisory_lock(%s)", (GRAPH_LOCK,))
        publish_borough(settings, 5, 2, 0, tmp_path, show_progress=False)
        deadline = time.monotonic() + 60
        status, body = 0, ""
        while time.monotonic() < deadline:
            try:
                status, body = _get(url)
            except urllib.error.URLError:  # not serving yet
                status = 0
            if status == 503:
                break
            time.sleep(0.5)
        assert status == 503 and json.loads(body)["status"] == "stalled", body
        blocker.execute("SELECT pg_advisory_unlock(%s)", (GRAPH_LOCK,))
    wait_pipeline_caught_up(settings, pseudo, resolve)
    status, body = _get(url)
    assert status == 200 and json.loads(body)["status"] == "ok"
