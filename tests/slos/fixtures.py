"""Hand-written SLOs, SLO alert monitors and downtimes in the Datadog API's
shapes (GET /api/v1/slo, /api/v1/monitor, /api/v1/downtime, /api/v2/downtime)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

METRIC_SLO = {
    "id": "aa11bb22cc33dd44ee55ff6600112233",
    "name": "Checkout availability",
    "type": "metric",
    "tags": ["team:payments", "service:checkout"],
    "description": "Share of checkout requests that did not fail.",
    "query": {
        "numerator": "sum:trace.http.request.hits{service:checkout}.as_count() - "
                     "sum:trace.http.request.errors{service:checkout}.as_count()",
        "denominator": "sum:trace.http.request.hits{service:checkout}.as_count()",
    },
    "thresholds": [
        {"timeframe": "7d", "target": 99.9, "warning": 99.95},
        {"timeframe": "30d", "target": 99.5},
        {"timeframe": "custom", "target": 99.0},
    ],
    "timeframe": "30d",
    "target_threshold": 99.5,
}

MONITOR_SLO = {
    "id": "monslo0001",
    "name": "API uptime",
    "type": "monitor",
    "tags": ["team:core"],
    "monitor_ids": [101, 102, 999],
    "thresholds": [{"timeframe": "30d", "target": 99.0, "warning": 99.5}],
}

TIME_SLICE_SLO = {
    "id": "tslice0001",
    "name": "Search latency p95",
    "type": "time_slice",
    "tags": [],
    "sli_specification": {"time_slice": {
        "comparator": "<", "threshold": 0.5, "query_interval_seconds": 300,
        "query": {"formulas": [{"formula": "query1"}],
                  "queries": [{"data_source": "metrics", "name": "query1",
                               "query": "p95:search.request.duration{env:prod}"}]}}},
    "thresholds": [{"timeframe": "7d", "target": 95.0}],
}

GROUPED_SLO = {
    "id": "grouped01", "name": "Ingress success by namespace", "type": "metric", "tags": [],
    "query": {"numerator": 'sum:nginx_ingress.controller.requests{!status:5*} by {kube_namespace}.as_count()',
              "denominator": "sum:nginx_ingress.controller.requests{*} by {kube_namespace}.as_count()"},
    "thresholds": [{"timeframe": "30d", "target": 99.5}],
}

BAD_SLO = {"id": "broken01", "name": "No queries", "type": "metric", "thresholds": [{"timeframe": "7d", "target": 99}]}

BURN_MONITOR = {
    "id": 5001, "name": "Checkout fast burn", "type": "slo alert", "tags": ["team:payments"],
    "query": 'burn_rate("aa11bb22cc33dd44ee55ff6600112233").over("30d").long_window("1h").short_window("5m") > 10',
    "options": {"thresholds": {"critical": 10, "warning": 5}},
    "message": "Checkout is burning its budget. @pagerduty-payments",
}
BUDGET_MONITOR = {
    "id": 5002, "name": "Checkout budget 75% used", "type": "slo alert", "tags": [],
    "query": 'error_budget("aa11bb22cc33dd44ee55ff6600112233").over("7d") > 75',
    "options": {"thresholds": {"critical": 75}},
}
ORPHAN_MONITOR = {
    "id": 5003, "name": "Burn on an SLO not exported", "type": "slo alert", "tags": [],
    "query": 'burn_rate("notinsnapshot").over("7d").long_window("6h") > 6',
    "options": {"thresholds": {"critical": 6}},
}
PLAIN_MONITORS = [
    {"id": 101, "name": "API 5xx high", "type": "query alert", "tags": ["team:core"],
     "query": "avg(last_5m):sum:nginx.5xx{*} > 10", "options": {"thresholds": {"critical": 10}}},
    {"id": 102, "name": "API down", "type": "service check", "tags": ["team:core"],
     "query": '"http.can_connect".over("*").by("instance").last(2).count_by_status()', "options": {}},
]


def write_snapshot(root: Path, slos: list[dict[str, Any]] = (), monitors: list[dict[str, Any]] = (),
                   downtimes: list[dict[str, Any]] = ()) -> Path:
    for kind, objs in (("slos", slos), ("monitors", monitors), ("downtimes", downtimes)):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i, o in enumerate(objs):
            oid = o.get("id") or (o.get("data") or {}).get("id") or i
            (folder / f"{oid}.json").write_text(json.dumps(o), encoding="utf-8")
    return root


# --- downtimes (now = NOW, a Friday) ------------------------------------------------
NOW_EPOCH = 1796385600  # 2026-12-04T12:00:00Z, a Friday
DOWNTIMES = [
    {"id": 1, "message": "Database migration", "scope": ["env:prod"], "monitor_id": 101,
     "start": NOW_EPOCH - 3600, "end": NOW_EPOCH + 7200, "timezone": "UTC", "recurrence": None},
    {"id": 2, "message": "Old maintenance", "scope": ["*"], "monitor_id": None, "monitor_tags": ["*"],
     "start": NOW_EPOCH - 86400 * 30, "end": NOW_EPOCH - 86400 * 29, "recurrence": None},
    # Saturdays and Sundays 22:00-08:00 Berlin time, monitors tagged team:core
    {"id": 3, "message": "Weekend batch window", "scope": ["*"], "monitor_tags": ["team:core"],
     "start": 1796504400, "end": 1796540400, "timezone": "Europe/Berlin",
     "recurrence": {"type": "weeks", "period": 1, "week_days": ["Sat", "Sun"]}},
    {"id": 31, "parent_id": 3, "message": "Weekend batch window", "scope": ["*"], "monitor_tags": ["team:core"],
     "start": 1796504400, "end": 1796540400, "timezone": "Europe/Berlin", "recurrence": None},
    {"id": 4, "message": "Every other week", "scope": ["host:db-1"], "monitor_id": 101,
     "start": NOW_EPOCH, "end": NOW_EPOCH + 3600, "recurrence": {"type": "weeks", "period": 2, "week_days": ["Mon"]}},
    {"id": 5, "message": "Canceled", "scope": ["*"], "monitor_id": 101, "start": NOW_EPOCH, "end": NOW_EPOCH + 60,
     "canceled": NOW_EPOCH - 10},
    {"id": 6, "message": "Daily backups, ended", "scope": ["*"], "monitor_id": 102, "start": NOW_EPOCH - 86400 * 60,
     "end": NOW_EPOCH - 86400 * 60 + 1800, "recurrence": {"type": "days", "period": 1,
                                                          "until_date": NOW_EPOCH - 86400}},
    {"id": 7, "message": "Broken", "scope": ["*"], "start": NOW_EPOCH, "end": NOW_EPOCH + 60,
     "recurrence": {"type": "hours", "period": 1}},
    {"data": {"id": "00000000-0000-0000-0000-00000000000a", "type": "downtime", "attributes": {
        "message": "Open-ended web mute", "scope": "env:prod -service:api",
        "monitor_identifier": {"monitor_tags": ["*"]},
        "schedule": {"start": "2026-12-04T11:00:00Z", "end": None}, "status": "active"}}},
    {"data": {"id": "00000000-0000-0000-0000-00000000000b", "type": "downtime", "attributes": {
        "message": "Patch Monday", "scope": "*", "monitor_identifier": {"monitor_id": 102},
        "schedule": {"recurrences": [{"rrule": "FREQ=MONTHLY;BYDAY=1MO", "duration": "2h",
                                      "start": "2026-01-05T03:00:00"}], "timezone": "America/New_York"},
        "status": "scheduled"}}},
    {"data": {"id": "00000000-0000-0000-0000-00000000000c", "type": "downtime", "attributes": {
        "message": "Canceled v2", "scope": "*", "monitor_identifier": {"monitor_id": 102},
        "schedule": {"start": "2026-12-04T11:00:00Z", "end": "2026-12-05T11:00:00Z"}, "status": "canceled"}}},
]
