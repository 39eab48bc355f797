"""Metric metadata (GET /api/v1/metrics/{name}) for every metric name the
snapshot's monitors, dashboards and SLOs read; stored with a ``metric`` field."""

from __future__ import annotations

from datadog_api_client.v1.api.metrics_api import MetricsApi

from dd2prom.export.metric_names import snapshot_metric_names
from dd2prom.export.resources.base import Resource


class Metrics(Resource):
    kind = "metrics"
    tagged = False
    lane = "after"                # reads the queries of everything exported before

    def targets(self, runner):
        return [(name, None) for name in sorted(snapshot_metric_names(runner.out))]

    def fetch(self, dd, oid, summary):
        body = dd.call(dd.api(MetricsApi).get_metric_metadata, metric_name=oid) or {}
        return {**body, "metric": oid}
