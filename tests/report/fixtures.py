"""coverage.json fixtures and a fake convert output folder, written the way the
converters write them, so the report can be tested before they all land."""

from __future__ import annotations

import json
from pathlib import Path

from dd2prom.emit.yamlio import dump_yaml, dump_yaml_all

W = "abc-def-ghk"
ITEMS = [
    {"kind": "monitor", "id": "41250001", "name": "[prod-eks] High CPU on node", "type": "metric alert", "status": "exact",
     "outputs": ["prometheus/rules/platform.yaml"], "tags": ["team:platform"], "metrics": ["system.cpu.user"]},
    {"kind": "monitor", "id": "41250003", "name": "[prod-eks] Container restarting", "type": "query alert", "status": "approximate",
     "notes": ["change() over 15m is translated with delta(), which extrapolates at the window edges."], "tags": ["team:platform"]},
    {"kind": "monitor", "id": "41250007", "name": "[prod-eks] Node is not ready", "type": "service check", "status": "manual",
     "notes": ["Service check kubernetes_state.node.ready has no direct metric; use kube_node_status_condition."]},
    {"kind": "monitor", "id": "41250008", "name": "[Synthetics] superset.analytics health", "type": "synthetics alert", "status": "unsupported",
     "notes": ["Synthetics monitors follow their test: see the Probe."], "unmapped_metrics": []},
    {"kind": "monitor", "id": "41250010", "name": "[checkout] 5xx ratio", "type": "query alert", "status": "approximate",
     "owner": "team:payments", "unmapped_metrics": ["checkout.http_requests.count"], "notes": ["as_count() read as increase()."]},
    {"kind": "monitor", "id": "41250011", "name": "[checkout] Mean request time", "type": "query alert", "status": "error",
     "notes": ["query does not parse"], "unmapped_metrics": [{"name": "checkout.http_request_duration_seconds.sum"}]},
    {"kind": "dashboard", "id": W, "name": "prod-eks cluster overview", "type": "ordered", "status": "approximate", "author": "mei.lin@acme-shop.example"},
    {"kind": "widget", "id": f"{W}/1", "name": "Nodes", "type": "query_value", "status": "exact"},
    {"kind": "widget", "id": f"{W}/2", "name": "CPU user % by node", "type": "timeseries", "status": "approximate",
     "notes": ["rollup differs"], "unmapped_metrics": ["checkout.http_requests.count"]},
    {"kind": "widget", "id": f"{W}/3", "name": "Pods closest to their memory limit", "type": "toplist", "status": "unsupported",
     "notes": ["top() with 'max' ranking"]},
    {"kind": "widget", "id": "xyz-pq7-r2s/7", "name": "Redis commands", "type": "timeseries", "status": "exact"},
    {"kind": "slo", "id": "9a0b6c3d2e1f4a5b8c7d6e5f4a3b2c1d", "name": "Superset is reachable", "type": "monitor", "status": "manual",
     "notes": ["monitor SLO on a synthetics monitor"]},
    {"kind": "synthetics", "id": "sup-3rs-et1", "name": "superset.analytics health", "type": "api", "status": "exact",
     "outputs": ["scrape/probes/superset.yaml"]},
    {"kind": "check", "id": "conf.d/redisdb.d/conf.yaml#0", "name": "redisdb", "type": "redisdb", "status": "approximate",
     "exporter": "redis_exporter", "scrape_object": "ServiceMonitor", "tags": ["service:session-cache"], "notes": ["redis.* names differ"]},
    {"kind": "check", "id": "conf.d/http_check.d/conf.yaml#0", "name": "superset_health", "type": "http_check", "status": "exact",
     "scrape_object": "Probe"},
    {"kind": "downtime", "id": "8c4f2a10-7b3e-11f0-9d2a-da7ad0900003", "name": "", "type": "recurring", "status": "exact"},
]


def write_converted(folder: Path, items: list[dict] | None = None) -> Path:
    """A small convert output: coverage.json plus one file of each deployable kind."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "coverage.json").write_text(json.dumps({"items": items if items is not None else ITEMS}), encoding="utf-8")
    rules = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "platform"},
             "spec": {"groups": [{"name": "platform", "rules": [{"alert": "HighCPU", "expr": "1"}, {"record": "a:b", "expr": "1"}]}]}}
    files = {
        "prometheus/rules/platform.yaml": dump_yaml_all([rules]),
        "alertmanager/alertmanager.yaml": dump_yaml({"route": {"receiver": "default"},
                                                     "receivers": [{"name": "default"}, {"name": "slack-platform-alerts"}]}),
        "grafana/dashboards/abc-def-ghk.json": json.dumps({"title": "prod-eks cluster overview"}),
        "scrape/probes/superset.yaml": dump_yaml_all([{"apiVersion": "monitoring.coreos.com/v1", "kind": "Probe",
                                                       "metadata": {"name": "superset"},
                                                       "spec": {"targets": {"staticConfig": {"static": ["http://superset.analytics:8088/health"]}}}}]),
        "blackbox/blackbox.yml": dump_yaml({"modules": {"http_2xx": {"prober": "http"}}}),
        "exporters/redis-exporter.yaml": dump_yaml_all([{"kind": "Deployment", "metadata": {"name": "redis-exporter"}}]),
    }
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
