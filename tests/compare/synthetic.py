"""Synthetic data both sides of the end-to-end test are built from.

The same closed-form signals are written as OpenMetrics (backfilled into a real
Prometheus with promtool) and turned into the answers Datadog's
``/api/v1/query`` would give (replayed from cassettes that make_cassettes.py
records), so a correct translation returns the same numbers on both sides.

Signals, over 3 h from T0 with a 15 s scrape interval:
* ``http.requests`` (count; ``http_requests_total`` counter) per env/service,
  rate = base × (1 + ½ sin(2πt / 2 h));
* ``queue.depth`` (gauge; ``queue_depth``) per queue: 50 + 40 sin(2πt / 90 min + phase).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

T0 = 1795132800            # 2026-11-20T00:00:00Z
DURATION = 3 * 3600
SCRAPE = 15
INTERVAL = 60              # the rollup interval the fake Datadog answers with
RANGE = (T0 + 1800, T0 + DURATION)   # the range the tests compare over

REQUESTS = {("prod", "a"): 10.0, ("prod", "b"): 20.0, ("prod", "c"): 5.0, ("staging", "d"): 8.0}
QUEUES = {"x": 0.0, "y": 2.0}
RATE_PERIOD = 7200.0
QUEUE_PERIOD = 5400.0


def request_count(base: float, t: float) -> float:
    """The counter: the integral of base × (1 + ½ sin(2πu/P)) from T0 to t."""
    u = t - T0
    return base * (u + 0.5 * RATE_PERIOD / (2 * math.pi) * (1 - math.cos(2 * math.pi * u / RATE_PERIOD)))


def queue_depth(phase: float, t: float) -> float:
    return 50.0 + 40.0 * math.sin(2 * math.pi * (t - T0) / QUEUE_PERIOD + phase)


def scrape_times() -> range:
    return range(T0, T0 + DURATION + 1, SCRAPE)


def openmetrics() -> str:
    lines = ["# TYPE http_requests counter"]
    for (env, service), base in REQUESTS.items():
        for t in scrape_times():
            lines.append(f'http_requests_total{{env="{env}",service="{service}"}} {request_count(base, t):.6f} {t}')
    lines.append("# TYPE queue_depth gauge")
    for queue, phase in QUEUES.items():
        for t in scrape_times():
            lines.append(f'queue_depth{{env="prod",queue="{queue}"}} {queue_depth(phase, t):.6f} {t}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the fake Datadog

_QUERY_RE = re.compile(r"^(?P<agg>avg|sum|min|max):(?P<metric>[\w.]+)\{(?P<scope>[^}]*)\}"
                       r"(?:\s*by\s*\{(?P<by>[^}]*)\})?(?P<fn>\.as_rate\(\)|\.as_count\(\))?"
                       r"(?:\.rollup\((?:avg|sum), (?P<rollup>\d+)\))?$")


def _series_of(metric: str) -> list[tuple[dict[str, str], Any]]:
    """(tags, bucket function(start, interval) → value) for every stored series."""
    if metric == "http.requests":
        return [({"env": env, "service": svc},
                 lambda start, interval, base=base: request_count(base, start + interval) - request_count(base, start))
                for (env, svc), base in REQUESTS.items()]
    if metric == "queue.depth":
        return [({"env": "prod", "queue": q},
                 lambda start, interval, phase=phase: sum(queue_depth(phase, t) for t in range(start, start + interval, SCRAPE))
                 / len(range(start, start + interval, SCRAPE)))
                for q, phase in QUEUES.items()]
    return []


def datadog_answer(query: str, start: int, end: int) -> dict[str, Any]:
    """What /api/v1/query returns for the few query shapes the tests use:
    space aggregation over the scope's series, 60 s buckets unless an explicit
    .rollup() asks otherwise (timestamp = bucket start, ms), counts per bucket or
    per second (.as_rate())."""
    m = _QUERY_RE.match(query)
    if not m:
        return {"status": "error", "error": f"unsupported query in the fake: {query}"}
    scope = [s.strip() for s in m.group("scope").split(",") if s.strip() and s.strip() != "*"]
    by = [b.strip() for b in (m.group("by") or "").split(",") if b.strip()]
    chosen = [(tags, fn) for tags, fn in _series_of(m.group("metric"))
              if all(tags.get(k) == v for k, v in (s.split(":", 1) for s in scope))]
    groups: dict[tuple[str, ...], list[Any]] = {}
    for tags, fn in chosen:
        groups.setdefault(tuple(f"{b}:{tags.get(b, 'N/A')}" for b in by), []).append(fn)
    interval = int(m.group("rollup") or INTERVAL)
    first = -(-start // interval) * interval
    buckets = range(first, end - interval + 1, interval)
    series = []
    for tag_set, fns in sorted(groups.items()):
        points = []
        for b in buckets:
            values = [fn(b, interval) for fn in fns]
            if m.group("fn") == ".as_rate()":
                values = [v / interval for v in values]
            value = sum(values) if m.group("agg") == "sum" else sum(values) / len(values)
            points.append([b * 1000.0, round(value, 6)])
        series.append({
            "aggr": m.group("agg"), "display_name": m.group("metric"), "expression": query,
            "interval": interval, "length": len(points), "metric": m.group("metric"),
            "pointlist": points, "query_index": 0, "scope": ",".join(scope + list(tag_set)) or "*",
            "start": points[0][0] if points else start * 1000, "end": points[-1][0] if points else end * 1000,
            "tag_set": list(tag_set), "unit": None,
        })
    return {"status": "ok", "res_type": "time_series", "from_date": start * 1000, "to_date": end * 1000,
            "query": query, "group_by": by, "message": "", "series": series}


# ------------------------------------------------------------------ the convert output under test

def coverage() -> dict[str, Any]:
    """A convert output's coverage.json with right, subtly wrong and
    series-missing translations of queries over the synthetic data."""
    rate_q = "sum:http.requests{env:prod} by {service}.as_rate()"
    monitor = lambda mid, promql, window="5m": {  # noqa: E731
        "kind": "monitor", "id": mid, "name": f"requests {mid}", "type": "query alert", "status": "exact",
        "notes": [], "outputs": [], "query": f"avg(last_{window}):{rate_q} > 17", "promql": promql,
        "thresholds": {"critical": 17},
    }
    widget = lambda wid, queries, promql: {  # noqa: E731
        "kind": "widget", "id": wid, "name": f"widget {wid}", "type": "timeseries", "status": "exact",
        "notes": [], "outputs": [], "queries": queries, "promql": promql,
    }
    return {"items": [
        monitor("right", 'sum by (service) (rate(http_requests_total{env="prod"}[5m])) > 17'),
        monitor("window", 'sum by (service) (rate(http_requests_total{env="prod"}[1h])) > 17'),
        monitor("short", 'sum by (service) (rate(http_requests_total{env="prod"}[90s])) > 17', "90s"),
        {"kind": "monitor", "id": "svc-check", "name": "ping", "type": "service check", "status": "manual",
         "notes": [], "outputs": [], "query": '"http.can_connect".over("*").last(2).count_by_status()'},
        {"kind": "monitor", "id": "untranslated", "name": "no promql", "type": "metric alert",
         "status": "unsupported", "notes": [], "outputs": [], "query": "avg(last_5m):avg:foo{*} > 1"},
        widget("dash/right", ["sum:http.requests{env:prod} by {service}.as_count()", "avg:queue.depth{$env} by {queue}"],
               ['sum by (service) (increase(http_requests_total{env="prod"}[$__interval]))',
                'avg by (queue) (queue_depth{env=~"$env"})']),
        widget("dash/window", [rate_q], ['sum by (service) (rate(http_requests_total{env="prod"}[30m]))']),
        widget("dash/wrong-filter", ["avg:queue.depth{env:prod} by {queue}"],
               ['avg by (queue) (queue_depth{env="production"})']),
        widget("dash/one-missing", ["sum:http.requests{*} by {service}.as_rate()"],
               ['sum by (service) (rate(http_requests_total{env="prod"}[$__rate_interval]))']),
        widget("dash/wrong-label", ["avg:queue.depth{env:prod} by {queue}"],
               ['avg by (env) (queue_depth{env="prod"})']),
        widget("dash/value", ["avg:queue.depth{env:prod} by {queue}"],
               ['avg_over_time((avg by (queue) (queue_depth{env="prod"}))[$__range:$__interval])']),
        widget("dash/top", [rate_q],
               ['topk(2, sum by (service) (rate(http_requests_total{env="prod"}[$__rate_interval])))']),
        {"kind": "widget", "id": "dash/change", "name": "change", "type": "change", "status": "exact", "notes": [],
         "outputs": [], "queries": [rate_q], "promql": ["(x) - (x offset 1d)"]},
        {"kind": "dashboard", "id": "dash", "name": "dash", "type": "", "status": "exact", "notes": [], "outputs": []},
    ]}


def datadog_queries() -> list[str]:
    """Every Datadog query the comparison of :func:`coverage` sends (the cassette's content)."""
    from dd2prom.compare import ledger

    import tempfile

    from dd2prom.compare.run import Options, monitor_rollup

    queries = set()
    with tempfile.TemporaryDirectory() as tmp:
        converted = ledger.load_coverage(convert_snapshot(tmp))
    for t in [*ledger.targets(coverage()), *ledger.targets(converted)]:
        if t.skip is None and t.datadog_query:
            queries.add(t.datadog_query)
            if t.monitor and t.monitor.window_seconds % INTERVAL:
                queries.add(monitor_rollup(t, INTERVAL, Options(*RANGE)))
    return sorted(queries)


# ------------------------------------------------------------------ a snapshot the real convert translates

def write_snapshot(root) -> None:
    """Monitors, a dashboard and metric metadata over the synthetic metrics, for
    ``dd2prom convert``: compare then checks the real transpiler's output."""
    from dd2prom.snapshot import atomic_write_json

    root = Path(root)
    monitors = [
        (101, "avg(last_5m):sum:http.requests{env:prod} by {service}.as_rate() > 17", 17),
        (102, "sum(last_10m):sum:http.requests{env:prod} by {service}.as_count() > 12000", 12000),
        (103, "max(last_1h):avg:queue.depth{env:prod} by {queue} > 85", 85),
    ]
    for mid, query, critical in monitors:
        atomic_write_json(root / "monitors" / f"{mid}.json", {
            "id": mid, "name": f"synthetic {mid}", "type": "query alert", "query": query,
            "message": "@slack-web", "tags": ["team:web"], "options": {"thresholds": {"critical": critical}}})
    atomic_write_json(root / "dashboards" / "syn-thet-ic.json", {
        "id": "syn-thet-ic", "title": "Synthetic", "layout_type": "ordered",
        "template_variables": [{"name": "env", "prefix": "env", "default": "*"}],
        "widgets": [
            {"id": 1, "definition": {"type": "timeseries", "title": "requests", "requests": [
                {"q": "sum:http.requests{env:prod} by {service}.as_rate()", "display_type": "line"}]}},
            {"id": 2, "definition": {"type": "timeseries", "title": "queues", "requests": [
                {"q": "avg:queue.depth{$env} by {queue}", "display_type": "line"}]}},
            {"id": 3, "definition": {"type": "query_value", "title": "depth", "requests": [
                {"q": "avg:queue.depth{env:prod}", "aggregator": "avg"}]}},
        ]})
    atomic_write_json(root / "metrics" / "http.requests.json", {"metric": "http.requests", "type": "count"})
    atomic_write_json(root / "metrics" / "queue.depth.json", {"metric": "queue.depth", "type": "gauge"})


def convert_snapshot(tmp) -> Path:
    """``dd2prom convert`` of :func:`write_snapshot` into ``tmp/converted``."""
    from dd2prom.convert import ConvertOptions, run_convert

    tmp = Path(tmp)
    write_snapshot(tmp / "snapshot")
    run_convert(tmp / "snapshot", tmp / "converted", ConvertOptions(), only={"monitors", "dashboards"})
    return tmp / "converted"
