"""The status page each stage serves (``/status``, data at ``/status.json``): consumer lag,
throughput over time, end-to-end latency percentiles and per-source data quality, refreshing
by itself every two seconds. Plain HTML and inline SVG, no external assets."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import faust

from core.settings import Settings

HISTORY = 120  # throughput samples kept (one per batch)


@dataclass
class StageStats:
    """Recent history of one stage, fed by every committed batch."""

    throughput: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=HISTORY))
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=5000))
    events: int = 0

    def record(self, count: int, seconds: float, latencies: list[float]) -> None:
        self.events += count
        self.throughput.append((time.time(), count / max(seconds, 1e-6)))
        self.latencies.extend(latencies)

    def percentiles(self) -> dict[str, float | None]:
        ordered = sorted(self.latencies)

        def at(q: float) -> float | None:
            return (
                round(ordered[min(int(q * len(ordered)), len(ordered) - 1)], 3) if ordered else None
            )

        return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}


STATS = StageStats()


def _snapshot(settings: Settings, stage: str) -> dict[str, Any]:
    from sink.analytics import query_view
    from stream_processors.lag import lag_rows

    quality = query_view(settings.database_dsn, "data_quality", {}, None)
    return {
        "stage": stage,
        "at": time.time(),
        "events": STATS.events,
        "throughput": [[round(t, 2), round(v, 1)] for t, v in STATS.throughput],
        "latency_s": STATS.percentiles(),
        "lag": [
            {
                "group": r.group,
                "topic": r.topic,
                "partition": r.partition,
                "lag": r.lag,
                "lag_s": r.lag_seconds,
            }
            for r in lag_rows(settings)
        ],
        "quality": [
            dict(zip(quality.columns, [_plain(v) for v in row], strict=True))
            for row in quality.rows
        ],
    }


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _inline(html: str, tag: str) -> list[str]:
    parts = html.split(f"<{tag}>")[1:]
    return [part.split(f"</{tag}>", 1)[0] for part in parts]


def content_security_policy(html: str) -> str:
    """Nothing but the page's own inline script and style (by hash) and its data request:
    a value that slipped into the page as markup could neither run nor load anything."""

    def hashes(tag: str) -> str:
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in _inline(html, tag)
        )

    return (
        f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; "
        "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _plain(value: Any) -> Any:
    return (
        float(value) if hasattr(value, "as_integer_ratio") and not isinstance(value, int) else value
    )


def serve_status(app: faust.App, settings: Settings, stage: str) -> None:
    html = PAGE.replace("{{stage}}", stage)
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(html)}

    @app.page("/status")
    async def page(web: Any, request: Any) -> Any:
        return web.html(html, headers=headers)

    @app.page("/status.json")
    async def data(web: Any, request: Any) -> Any:
        loop = asyncio.get_running_loop()
        return web.json(await loop.run_in_executor(None, _snapshot, settings, stage))

    del page, data  # registered with the app by the decorators


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>earlylink status: {{stage}}</title>
<style>
 body{font:14px system-ui,sans-serif;margin:24px;color:#1b2733;background:#f6f8fa}
 h1{font-size:20px;margin:0 0 4px} .muted{color:#667}
 .grid{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin-top:16px}
 .card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:12px 16px}
 .card h2{font-size:15px;margin:0 0 8px} table{border-collapse:collapse;width:100%}
 td,th{padding:3px 6px;border-bottom:1px solid #eef1f4;text-align:right}
 td:first-child,th:first-child{text-align:left} svg{width:100%;height:140px}
 .bar{fill:#2f7ed8} .line{fill:none;stroke:#2f7ed8;stroke-width:2} .axis{stroke:#ccd}
</style></head><body>
<h1>earlylink — stage <span id="stage">{{stage}}</span></h1>
<div class="muted">refreshes every 2 s · <span id="updated">loading…</span> ·
 events committed: <b id="events">0</b></div>
<div class="grid">
 <div class="card"><h2>Throughput (events/s per batch)</h2>
  <svg id="throughput" viewBox="0 0 400 140" preserveAspectRatio="none"></svg></div>
 <div class="card"><h2>End-to-end latency (s): raw event → committed</h2>
  <svg id="latency" viewBox="0 0 400 140"></svg></div>
 <div class="card"><h2>Consumer lag</h2><svg id="lagchart" viewBox="0 0 400 140"></svg>
  <table id="lag"></table></div>
 <div class="card"><h2>Data quality per source</h2><table id="quality"></table></div>
</div>
<script>
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent){const e=document.createElementNS(NS,tag);
 for(const k in attrs) e.setAttribute(k, attrs[k]); parent.appendChild(e); return e;}
function bars(svg, items){svg.innerHTML=""; const max=Math.max(1,...items.map(i=>i[1]||0));
 const w=400/Math.max(items.length,1);
 items.forEach((it,i)=>{const h=120*(it[1]||0)/max; el("rect",{class:"bar",x:i*w+4,y:125-h,
  width:Math.max(w-8,2),height:Math.max(h,1)},svg);
  const t=el("text",{x:i*w+4,y:138,"font-size":"10"},svg);
  t.textContent=it[0]+": "+(it[1]===null||it[1]===undefined?"-":(+it[1]).toLocaleString());});}
function line(svg, points){svg.innerHTML=""; el("line",{class:"axis",x1:0,y1:135,x2:400,y2:135},svg);
 if(points.length<2) return; const max=Math.max(1,...points.map(p=>p[1]));
 const t0=points[0][0], t1=points[points.length-1][0]||t0+1;
 const d=points.map(p=>((p[0]-t0)/Math.max(t1-t0,1)*400).toFixed(1)+","+(135-130*p[1]/max).toFixed(1)).join(" ");
 el("polyline",{class:"line",points:d},svg);}
function cells(row, tag, values){values.forEach(v=>{const c=document.createElement(tag);
 c.textContent=(v===null||v===undefined?"-":String(v)); row.appendChild(c);});}
function table(node, rows, cols){node.replaceChildren(); cells(node.insertRow(), "th", cols);
 rows.forEach(r=>cells(node.insertRow(), "td", cols.map(c=>r[c])));}
async function refresh(){
 try{const s=await (await fetch("status.json")).json();
  document.getElementById("events").textContent=s.events.toLocaleString();
  document.getElementById("updated").textContent="updated "+new Date(s.at*1000).toLocaleTimeString();
  line(document.getElementById("throughput"), s.throughput);
  bars(document.getElementById("latency"), Object.entries(s.latency_s));
  const byGroup={}; s.lag.forEach(r=>{byGroup[r.group]=(byGroup[r.group]||0)+r.lag;});
  bars(document.getElementById("lagchart"), Object.entries(byGroup));
  table(document.getElementById("lag"), s.lag, ["group","partition","lag","lag_s"]);
  table(document.getElementById("quality"), s.quality, ["source_system","received",
   "pseudonymised","dead_lettered","field_issues","share_linked_to_other_sources"]);
 }catch(e){document.getElementById("updated").textContent="error: "+e;}}
refresh(); setInterval(refresh, 2000);
</script></body></html>
"""
