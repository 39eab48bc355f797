"""A synthetic Datadog organisation, in the API's own JSON shapes.

Used by the fake Datadog API (tests/fakeapi), the export benchmark and the
convert scale benchmark. Objects come from varied, realistic templates:
monitors of several types with real-looking queries and options, dashboards
with ~30 widgets of varied types (legacy ``q`` requests and formula queries,
groups, notes, SLO and alert widgets), metric and monitor SLOs, API and
browser synthetics tests, downtimes (API v2), metric metadata for every
metric the queries read, and monthly usage.

    generate(n_monitors, n_dashboards, seed) -> {"monitors": [...], "dashboards": [...],
        "slos": [...], "synthetics": [...], "downtimes": [...], "metrics": [...], "usage": [...]}
    write_snapshot(org, folder)   # the snapshot layout of dd2prom export

Deterministic for a given seed (and ``today``).
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# metric → (type, unit, per_unit, integration)
METRICS: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "system.cpu.user": ("gauge", "percent", None, "system"),
    "system.cpu.iowait": ("gauge", "percent", None, "system"),
    "system.load.1": ("gauge", None, None, "system"),
    "system.mem.pct_usable": ("gauge", "fraction", None, "system"),
    "system.mem.used": ("gauge", "byte", None, "system"),
    "system.disk.in_use": ("gauge", "fraction", None, "disk"),
    "system.net.bytes_rcvd": ("gauge", "byte", "second", "system"),
    "trace.http.request.hits": ("count", "hit", None, "apm"),
    "trace.http.request.errors": ("count", "error", None, "apm"),
    "trace.http.request": ("distribution", "second", None, "apm"),
    "nginx.net.request_per_s": ("gauge", "request", "second", "nginx"),
    "kubernetes_state.deployment.replicas_available": ("gauge", None, None, "kubernetes_state"),
    "kubernetes.containers.restarts": ("count", None, None, "kubernetes"),
    "kubernetes.cpu.usage.total": ("gauge", "nanocore", None, "kubernetes"),
    "kubernetes.memory.usage": ("gauge", "byte", None, "kubernetes"),
    "postgresql.connections": ("gauge", "connection", None, "postgres"),
    "postgresql.rows_returned": ("rate", "row", "second", "postgres"),
    "redis.mem.used": ("gauge", "byte", None, "redis"),
    "redis.mem.maxmemory": ("gauge", "byte", None, "redis"),
    "redis.net.clients": ("gauge", "connection", None, "redis"),
    "aws.elb.healthy_host_count": ("gauge", "host", None, "amazon_elb"),
    "aws.elb.latency": ("gauge", "second", None, "amazon_elb"),
    "kafka.consumer_lag": ("gauge", "offset", None, "kafka"),
    "jvm.heap_memory": ("gauge", "byte", None, "java"),
    "custom.checkout.failed": ("count", None, None, None),
    "custom.checkout.completed": ("count", None, None, None),
    "custom.queue.depth": ("gauge", "item", None, None),
}

TEAMS = ["payments", "checkout", "platform", "search", "data", "identity", "mobile", "sre"]
SERVICES = ["web-store", "cart-api", "payment-gateway", "search-api", "auth", "orders", "inventory",
            "notifications", "recommendations", "billing-worker"]
ENVS = ["prod", "staging"]
NAMESPACES = ["default", "shop", "payments", "platform", "data"]

# (type, name template, query template, critical, warning); {env} {service} {ns} {team} filled in
MONITOR_TEMPLATES: list[tuple[str, str, str, float | None, float | None]] = [
    ("metric alert", "High CPU on {service} ({env})",
     "avg(last_5m):avg:system.cpu.user{{env:{env},service:{service}}} by {{host}} > {crit}", 90, 80),
    ("metric alert", "Low memory on {env} hosts",
     "avg(last_10m):avg:system.mem.pct_usable{{env:{env}}} by {{host}} < {crit}", 0.1, 0.2),
    ("metric alert", "Disk almost full ({env})",
     "max(last_5m):avg:system.disk.in_use{{env:{env}}} by {{host,device}} > {crit}", 0.9, 0.8),
    ("query alert", "{service} error rate above 5%",
     "sum(last_5m):sum:trace.http.request.errors{{service:{service},env:{env}}}.as_count() / "
     "sum:trace.http.request.hits{{service:{service},env:{env}}}.as_count() > {crit}", 0.05, 0.02),
    ("query alert", "Anomalous request rate on {service}",
     "avg(last_15m):anomalies(avg:nginx.net.request_per_s{{service:{service}}}, 'agile', 2, direction='both', "
     "alert_window='last_15m', interval=60, count_default_zero='true') >= {crit}", 1, None),
    ("query alert", "Disk will fill within a week ({env})",
     "max(last_4h):forecast(avg:system.disk.in_use{{env:{env}}} by {{host}}, 'linear', 1, interval='60m', "
     "history='1w', model='default') >= {crit}", 0.95, None),
    ("query alert", "Deployment without replicas in {ns}",
     "avg(last_5m):avg:kubernetes_state.deployment.replicas_available{{kube_namespace:{ns}}} by {{kube_deployment}} < {crit}",
     1, None),
    ("query alert", "Pods restarting in {ns}",
     "sum(last_10m):sum:kubernetes.containers.restarts{{kube_namespace:{ns}}} by {{pod_name}}.as_count() > {crit}", 5, 2),
    ("query alert", "Postgres connections jumped ({env})",
     "pct_change(avg(last_1h),last_1d):avg:postgresql.connections{{env:{env}}} > {crit}", 50, 25),
    ("query alert", "p99 latency of {service}",
     "avg(last_5m):p99:trace.http.request{{service:{service},env:{env}}} > {crit}", 2, 1),
    ("query alert", "Redis memory above 90% ({env})",
     "avg(last_5m):avg:redis.mem.used{{env:{env}}} / avg:redis.mem.maxmemory{{env:{env}}} * 100 > {crit}", 90, 80),
    ("query alert", "ELB healthy hosts low ({env})",
     "min(last_30m):avg:aws.elb.healthy_host_count{{env:{env}}} by {{name}} < {crit}", 2, 3),
    ("query alert", "Checkout failures ({env})",
     "sum(last_1h):sum:custom.checkout.failed{{env:{env}}}.as_count() > {crit}", 10, 5),
    ("query alert", "Kafka consumer lag for {service}",
     "max(last_10m):max:kafka.consumer_lag{{service:{service},env:{env}}} by {{consumer_group}} > {crit}", 10000, 5000),
    ("service check", "{service} HTTP check failing",
     "\"http.can_connect\".over(\"env:{env}\",\"instance:{service}\").by(\"host\",\"instance\").last(3).count_by_status()",
     None, None),
    ("log alert", "Error logs spike on {service}",
     "logs(\"service:{service} status:error env:{env}\").index(\"*\").rollup(\"count\").by(\"host\").last(\"5m\") > {crit}",
     100, 50),
    ("process alert", "{service} process down",
     "processes('{service}').over('env:{env}').rollup('count').last('5m') < {crit}", 1, None),
]

WIDGET_KINDS = ["timeseries", "timeseries_formula", "query_value", "toplist", "heatmap", "distribution",
                "hostmap", "note", "check_status", "alert_graph", "change", "query_table", "free_text",
                "log_stream", "slo", "group"]

BASE_TIME = datetime(2025, 6, 1, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat()


def _pub_id(rng: random.Random) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "-".join("".join(rng.choice(alphabet) for _ in range(3)) for _ in range(3))


def _fill(rng: random.Random) -> dict[str, str]:
    return {"env": rng.choice(ENVS), "service": rng.choice(SERVICES), "ns": rng.choice(NAMESPACES),
            "team": rng.choice(TEAMS)}


def _creator(rng: random.Random, team: str) -> dict[str, Any]:
    name = rng.choice(["alex", "sam", "kim", "noor", "li", "ana", "joe", "maya"])
    return {"name": name.title(), "handle": f"{name}@example.com", "email": f"{name}@example.com"}


def _monitor(rng: random.Random, mid: int, prior: list[int]) -> dict[str, Any]:
    f = _fill(rng)
    created = BASE_TIME + timedelta(minutes=mid % 500000)
    if prior and rng.random() < 0.04:
        a, b = rng.sample(prior, 2) if len(prior) > 1 else (prior[0], prior[0])
        mtype, name, query, crit, warn = "composite", f"{f['service']} degraded (composite)", f"{a} && {b}", None, None
    else:
        mtype, name_t, query_t, crit, warn = rng.choice(MONITOR_TEMPLATES)
        name = name_t.format(**f)
        query = query_t.format(crit=crit, **f)
    thresholds: dict[str, Any] = {}
    if crit is not None:
        thresholds["critical"] = crit
        if warn is not None:
            thresholds["warning"] = warn
    elif mtype == "service check":
        thresholds = {"critical": 1, "warning": 1, "ok": 1}
    options: dict[str, Any] = {
        "thresholds": thresholds,
        "notify_no_data": rng.random() < 0.3,
        "notify_audit": False,
        "include_tags": True,
        "new_group_delay": rng.choice([0, 60, 300]),
        "require_full_window": rng.random() < 0.2,
        "renotify_interval": rng.choice([0, 30, 60, 120]),
        "evaluation_delay": rng.choice([0, 60, 300]),
        "silenced": {},
    }
    if options["notify_no_data"]:
        options["no_data_timeframe"] = rng.choice([10, 20, 60])
    if mtype == "query alert" and "anomalies(" in query:
        options["threshold_windows"] = {"trigger_window": "last_15m", "recovery_window": "last_15m"}
    tags = [f"team:{f['team']}", f"env:{f['env']}", f"service:{f['service']}"]
    message = (f"{{{{#is_alert}}}}{name} is firing on {{{{host.name}}}}.{{{{/is_alert}}}}\n"
               f"{{{{#is_recovery}}}}Recovered.{{{{/is_recovery}}}}\n"
               f"Runbook: https://wiki.example.com/runbooks/{f['service']}\n@slack-{f['team']}-alerts"
               + (" @pagerduty-" + f["team"] if f["env"] == "prod" else ""))
    return {
        "id": mid, "name": name, "type": mtype, "query": query, "message": message, "tags": tags,
        "options": options, "priority": rng.choice([None, 1, 2, 3, 4]), "multi": " by " in query,
        "created": _iso(created), "modified": _iso(created + timedelta(days=rng.randint(0, 300))),
        "created_at": int(created.timestamp() * 1000), "creator": _creator(rng, f["team"]),
        "org_id": 1000, "overall_state": rng.choice(["OK", "OK", "OK", "Alert", "No Data", "Warn"]),
        "overall_state_modified": _iso(created + timedelta(days=1)), "restricted_roles": None,
        "deleted": None, "matching_downtimes": [],
    }


def _metric_query(rng: random.Random, f: dict[str, str], by: bool = True) -> str:
    metric = rng.choice(list(METRICS))
    agg = "sum" if METRICS[metric][0] == "count" else rng.choice(["avg", "max", "min", "sum"])
    scope = rng.choice([f"env:$env.value,service:{f['service']}", "$env,$service", "*", f"kube_namespace:{f['ns']}"])
    q = f"{agg}:{metric}{{{scope}}}"
    if by and rng.random() < 0.6:
        q += " by {" + rng.choice(["host", "service", "kube_namespace,pod_name", "availability-zone"]) + "}"
    if METRICS[metric][0] == "count" and rng.random() < 0.7:
        q += ".as_count()"
    return q


def _widget(rng: random.Random, kind: str, f: dict[str, str], wid: int, slo_ids: list[str],
            monitor_ids: list[int]) -> dict[str, Any]:
    title = f"{kind.replace('_', ' ').title()} · {f['service']}"
    if kind == "timeseries":
        d = {"type": "timeseries", "title": title, "show_legend": True, "legend_layout": "auto",
             "requests": [{"q": _metric_query(rng, f), "display_type": rng.choice(["line", "bars", "area"]),
                           "style": {"palette": "dog_classic", "line_type": "solid", "line_width": "normal"}}]}
    elif kind == "timeseries_formula":
        d = {"type": "timeseries", "title": title, "requests": [{
            "response_format": "timeseries", "display_type": "line",
            "queries": [{"data_source": "metrics", "name": "query1", "query": _metric_query(rng, f)},
                        {"data_source": "metrics", "name": "query2", "query": _metric_query(rng, f)}],
            "formulas": [{"formula": rng.choice(["query1", "query1 / query2 * 100", "query1 - query2"])}]}]}
    elif kind == "query_value":
        d = {"type": "query_value", "title": title, "precision": 2, "autoscale": True,
             "requests": [{"q": _metric_query(rng, f, by=False), "aggregator": rng.choice(["avg", "last", "sum"]),
                           "conditional_formats": [{"comparator": ">", "value": 90, "palette": "white_on_red"}]}]}
    elif kind == "toplist":
        d = {"type": "toplist", "title": title,
             "requests": [{"q": f"top({_metric_query(rng, f)}, 10, 'mean', 'desc')"}]}
    elif kind in ("heatmap", "distribution"):
        d = {"type": kind, "title": title, "requests": [{"q": f"avg:trace.http.request{{service:{f['service']}}}"}]}
    elif kind == "hostmap":
        d = {"type": "hostmap", "title": title, "node_type": "host", "no_group_hosts": True,
             "requests": {"fill": {"q": "avg:system.cpu.user{$env} by {host}"},
                          "size": {"q": "avg:system.mem.used{$env} by {host}"}}}
    elif kind == "note":
        d = {"type": "note", "content": f"## {f['service']}\nOwned by **{f['team']}**. See the runbook.",
             "background_color": "yellow", "font_size": "14", "text_align": "left", "show_tick": False}
    elif kind == "check_status":
        d = {"type": "check_status", "title": title, "check": "http.can_connect", "grouping": "cluster",
             "group_by": [], "tags": [f"service:{f['service']}"]}
    elif kind == "alert_graph":
        d = {"type": "alert_graph", "title": title, "alert_id": str(rng.choice(monitor_ids) if monitor_ids else 1),
             "viz_type": "timeseries"}
    elif kind == "change":
        d = {"type": "change", "title": title, "requests": [{"q": _metric_query(rng, f), "compare_to": "day_before",
                                                              "change_type": "relative", "order_by": "change",
                                                              "order_dir": "desc", "increase_good": False}]}
    elif kind == "query_table":
        d = {"type": "query_table", "title": title, "requests": [{
            "response_format": "scalar",
            "queries": [{"data_source": "metrics", "name": "query1", "query": _metric_query(rng, f),
                         "aggregator": "avg"}],
            "formulas": [{"formula": "query1", "limit": {"count": 10, "order": "desc"}}]}]}
    elif kind == "free_text":
        d = {"type": "free_text", "text": f"{f['service']} overview", "color": "#4d4d4d", "font_size": "auto"}
    elif kind == "log_stream":
        d = {"type": "log_stream", "title": title, "indexes": ["main"], "query": f"service:{f['service']} status:error",
             "columns": ["host", "service"], "sort": {"column": "time", "order": "desc"}}
    elif kind == "slo":
        d = {"type": "slo", "title": title, "view_type": "detail", "slo_id": rng.choice(slo_ids) if slo_ids else "0",
             "time_windows": ["7d", "30d"], "show_error_budget": True, "view_mode": "overall"}
    else:  # group
        inner = [_widget(rng, rng.choice(WIDGET_KINDS[:6]), f, wid * 100 + i, slo_ids, monitor_ids) for i in range(4)]
        d = {"type": "group", "title": f"{f['service']} details", "layout_type": "ordered",
             "background_color": "vivid_blue", "widgets": inner}
    return {"id": wid, "definition": d,
            "layout": {"x": (wid % 3) * 4, "y": (wid // 3) * 2, "width": 4, "height": 2}}


def _dashboard(rng: random.Random, n: int, slo_ids: list[str], monitor_ids: list[int], used: set[str]) -> dict[str, Any]:
    f = _fill(rng)
    did = _pub_id(rng)
    while did in used:
        did = _pub_id(rng)
    used.add(did)
    created = BASE_TIME + timedelta(hours=n)
    widgets = [_widget(rng, rng.choice(WIDGET_KINDS), f, rng.randrange(10**15) + i, slo_ids, monitor_ids)
               for i in range(rng.randint(24, 36))]
    title = f"{f['service'].replace('-', ' ').title()} · {rng.choice(['Overview', 'Health', 'Capacity', 'SLIs', 'Deep dive'])} #{n}"
    return {
        "id": did, "title": title, "description": f"Owned by {f['team']}.", "layout_type": "ordered",
        "reflow_type": "fixed", "widgets": widgets, "notify_list": [], "tags": [f"team:{f['team']}"],
        "template_variables": [{"name": "env", "prefix": "env", "available_values": ENVS, "default": "prod"},
                               {"name": "service", "prefix": "service", "available_values": [], "default": "*"}],
        "template_variable_presets": [], "author_handle": _creator(rng, f["team"])["handle"],
        "author_name": None, "created_at": _iso(created), "modified_at": _iso(created + timedelta(days=rng.randint(0, 90))),
        "url": f"/dashboard/{did}/{title.lower().replace(' ', '-')}", "is_read_only": False, "restricted_roles": [],
    }


def _slo(rng: random.Random, n: int, monitor_ids: list[int]) -> dict[str, Any]:
    f = _fill(rng)
    sid = uuid.UUID(int=rng.getrandbits(128)).hex
    created = int((BASE_TIME + timedelta(hours=n)).timestamp())
    target = rng.choice([99.0, 99.5, 99.9, 99.95])
    base = {"id": sid, "name": f"{f['service']} availability", "description": f"Owned by {f['team']}.",
            "tags": [f"team:{f['team']}", f"env:{f['env']}", f"service:{f['service']}"],
            "thresholds": [{"timeframe": tf, "target": target, "target_display": str(target),
                            "warning": round(target + (100 - target) / 2, 3)} for tf in ("7d", "30d")],
            "target_threshold": target, "timeframe": "30d", "created_at": created, "modified_at": created + 3600,
            "creator": _creator(rng, f["team"])}
    if monitor_ids and rng.random() < 0.3:
        return {**base, "type": "monitor", "monitor_ids": rng.sample(monitor_ids, min(2, len(monitor_ids))),
                "monitor_tags": [], "query": None}
    return {**base, "type": "metric", "query": {
        "numerator": f"sum:trace.http.request.hits{{service:{f['service']},env:{f['env']},!http.status_class:5xx}}.as_count()",
        "denominator": f"sum:trace.http.request.hits{{service:{f['service']},env:{f['env']}}}.as_count()"}}


def _synthetic(rng: random.Random, n: int, used: set[str]) -> dict[str, Any]:
    f = _fill(rng)
    pid = _pub_id(rng)
    while pid in used:
        pid = _pub_id(rng)
    used.add(pid)
    created = BASE_TIME + timedelta(hours=n)
    common = {"public_id": pid, "status": rng.choice(["live", "live", "paused"]), "message": f"@slack-{f['team']}-alerts",
              "tags": [f"team:{f['team']}", f"env:{f['env']}"], "locations": ["aws:eu-west-1", "aws:us-east-1"],
              "monitor_id": 9000000 + n, "created_at": _iso(created), "modified_at": _iso(created + timedelta(days=3)),
              "creator": _creator(rng, f["team"]),
              "options": {"tick_every": rng.choice([60, 300, 900]), "min_failure_duration": 0, "min_location_failed": 1,
                          "retry": {"count": 1, "interval": 300}, "monitor_options": {"renotify_interval": 0}}}
    kind = rng.choice(["http", "http", "http", "ssl", "dns", "tcp", "browser"])
    host = f"{f['service']}.example.com"
    if kind == "browser":
        return {**common, "name": f"Checkout journey on {host}", "type": "browser",
                "config": {"request": {"method": "GET", "url": f"https://{host}/"}, "assertions": []},
                "steps": [{"name": "Click on checkout", "type": "click", "allowFailure": False, "timeout": 0,
                           "params": {"element": {"targetOuterHTML": "<button>Checkout</button>"}}}]}
    if kind == "http":
        config = {"request": {"method": "GET", "url": f"https://{host}/healthz", "timeout": 10},
                  "assertions": [{"type": "statusCode", "operator": "is", "target": 200},
                                 {"type": "responseTime", "operator": "lessThan", "target": rng.choice([500, 1000, 2000])},
                                 {"type": "body", "operator": "contains", "target": "ok"}]}
    elif kind == "ssl":
        config = {"request": {"host": host, "port": 443},
                  "assertions": [{"type": "certificate", "operator": "isInMoreThan", "target": 30}]}
    elif kind == "dns":
        config = {"request": {"host": host, "dnsServer": "8.8.8.8"},
                  "assertions": [{"type": "recordSome", "operator": "is", "property": "A", "target": "10.0.0.1"}]}
    else:
        config = {"request": {"host": host, "port": 5432},
                  "assertions": [{"type": "responseTime", "operator": "lessThan", "target": 500}]}
    return {**common, "name": f"{kind.upper()} {host}", "type": "api", "subtype": kind, "config": config}


def _downtime(rng: random.Random, n: int) -> dict[str, Any]:
    f = _fill(rng)
    start = BASE_TIME + timedelta(days=n)
    schedule: dict[str, Any]
    if rng.random() < 0.5:
        schedule = {"start": _iso(start), "end": _iso(start + timedelta(hours=rng.choice([1, 2, 8])))}
    else:
        schedule = {"timezone": "Europe/Paris", "current_downtime": None,
                    "recurrences": [{"rrule": "FREQ=WEEKLY;BYDAY=SA", "duration": "4h", "start": "2025-06-07T01:00:00"}]}
    identifier = ({"monitor_tags": [f"team:{f['team']}"]} if rng.random() < 0.7
                  else {"monitor_id": 1000 + n})
    return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "type": "downtime",
            "attributes": {"scope": f"env:{f['env']}", "monitor_identifier": identifier, "schedule": schedule,
                           "message": f"Maintenance window for {f['service']}", "status": "scheduled",
                           "display_timezone": "UTC", "mute_first_recovery_notification": False,
                           "notify_end_states": ["alert", "no data", "warn"], "notify_end_types": ["canceled", "expired"],
                           "created": _iso(start - timedelta(days=1)), "modified": _iso(start - timedelta(days=1)),
                           "canceled": None},
            "relationships": {"created_by": {"data": {"id": str(uuid.UUID(int=n + 1)), "type": "users"}},
                              "monitor": {"data": None}}}


def metric_metadata(name: str) -> dict[str, Any]:
    mtype, unit, per_unit, integration = METRICS[name]
    return {"description": f"{name} ({integration or 'custom'})", "integration": integration, "per_unit": per_unit,
            "short_name": name.rsplit(".", 1)[-1], "statsd_interval": 10 if mtype == "count" else None,
            "type": mtype, "unit": unit}


def usage_month(month: date, seed: int) -> dict[str, Any]:
    """One month of GET /api/v1/usage/summary ``usage`` (the fields the cost report reads)."""
    rng = random.Random(seed * 1000 + month.year * 12 + month.month)
    hosts = rng.randint(180, 260)
    containers = rng.randint(1500, 2600)
    return {"date": datetime(month.year, month.month, 1, tzinfo=UTC).isoformat(),
            "infra_host_top99p": hosts, "agent_host_top99p": hosts - rng.randint(0, 15),
            "aws_host_top99p": rng.randint(0, 40), "container_avg": containers,
            "container_hwm": int(containers * rng.uniform(1.2, 1.6)), "custom_ts_avg": rng.randint(8000, 30000),
            "apm_host_top99p": rng.randint(40, 120), "synthetics_check_calls_count_sum": rng.randint(10**5, 10**6),
            "orgs": []}


def generate(n_monitors: int, n_dashboards: int, seed: int = 0, *, n_slos: int | None = None,
             n_synthetics: int | None = None, n_downtimes: int | None = None,
             today: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """A whole organisation; SLOs, synthetics and downtimes scale with the
    monitors unless given."""
    rng = random.Random(seed)
    monitors: list[dict[str, Any]] = []
    ids: list[int] = []
    for i in range(n_monitors):
        mid = 1000 + i * 7 + rng.randint(0, 6)
        monitors.append(_monitor(rng, mid, ids))
        ids.append(mid)
    slos = [_slo(rng, i, ids) for i in range(n_slos if n_slos is not None else max(1, n_monitors // 20))]
    used: set[str] = set()
    synthetics = [_synthetic(rng, i, used) for i in range(n_synthetics if n_synthetics is not None else max(1, n_monitors // 40))]
    slo_ids = [s["id"] for s in slos]
    dashboards = [_dashboard(rng, i, slo_ids, ids, used) for i in range(n_dashboards)]
    downtimes = [_downtime(rng, i) for i in range(n_downtimes if n_downtimes is not None else max(1, n_monitors // 100))]
    metrics = [{**metric_metadata(name), "metric": name} for name in sorted(METRICS)]
    today = today or date.today()
    months = []
    index = today.year * 12 + today.month - 1
    for back in range(12, 0, -1):
        m = index - back
        months.append(usage_month(date(m // 12, m % 12 + 1, 1), seed))
    return {"monitors": monitors, "dashboards": dashboards, "slos": slos, "synthetics": synthetics,
            "downtimes": downtimes, "metrics": metrics, "usage": months}


def write_snapshot(org: dict[str, list[dict[str, Any]]], folder: Path | str) -> Path:
    """Write an organisation in the layout ``dd2prom export`` produces (without
    manifest.json, like the shared corpus)."""
    from dd2prom.snapshot import dumps, safe_filename

    folder = Path(folder)
    id_field = {"synthetics": "public_id", "metrics": "metric"}
    for kind in ("monitors", "dashboards", "slos", "synthetics", "downtimes", "metrics"):
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for obj in org.get(kind, []):
            (folder / kind / f"{safe_filename(obj[id_field.get(kind, 'id')])}.json").write_text(dumps(obj), encoding="utf-8")
    usage = org.get("usage") or []
    if usage:
        (folder / "usage").mkdir(parents=True, exist_ok=True)
        (folder / "usage" / "summary.json").write_text(dumps(usage_summary(usage)), encoding="utf-8")
    return folder


def usage_summary(months: list[dict[str, Any]]) -> dict[str, Any]:
    """The GET /api/v1/usage/summary body for some months."""
    return {"start_date": months[0]["date"] if months else None, "end_date": months[-1]["date"] if months else None,
            "usage": months,
            "infra_host_top99p_sum": sum(m["infra_host_top99p"] for m in months),
            "container_avg_sum": sum(m["container_avg"] for m in months),
            "container_hwm_sum": max((m["container_hwm"] for m in months), default=0),
            "custom_ts_sum": sum(m["custom_ts_avg"] for m in months)}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic Datadog organisation as a snapshot folder.")
    parser.add_argument("out")
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--dashboards", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    a = parser.parse_args()
    write_snapshot(generate(a.monitors, a.dashboards, a.seed), a.out)
    print(json.dumps({"written": a.out}))
