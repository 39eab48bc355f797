"""Monitor types with no Prometheus metric behind them: the reason and what to use instead."""

from __future__ import annotations

from dd2prom.convert.monitors.base import NotConverted
from dd2prom.model import Status

INSTEAD = {
    "log alert": "Datadog Logs queries have no metric in Prometheus; use Loki ruler alerts (LogQL) "
                 "or export a log-derived counter and alert on it.",
    "event alert": "Datadog events are not metrics; alert on the metric behind the event, or ship "
                   "Kubernetes events to Loki and use a LogQL alert.",
    "event-v2 alert": "Datadog events are not metrics; alert on the metric behind the event, or ship "
                      "Kubernetes events to Loki and use a LogQL alert.",
    "process alert": "Live process checks: use process-exporter (namedprocess_namegroup_num_procs) "
                     "and alert on the process count.",
    "trace-analytics alert": "APM trace queries: generate span metrics (OpenTelemetry spanmetrics "
                             "connector or Tempo metrics-generator) and alert on those.",
    "rum alert": "RUM sessions: use a frontend observability tool (e.g. Grafana Faro) or export "
                 "web-vitals metrics and alert on them.",
    "ci-pipelines alert": "CI Visibility: alert in the CI system or export pipeline metrics.",
    "ci-tests alert": "CI Visibility: alert in the CI system or export test metrics.",
    "audit alert": "Audit Trail: ship audit logs to Loki and use a LogQL alert.",
    "cost alert": "Cloud cost: use OpenCost/Kubecost metrics with a Prometheus alert.",
    "error-tracking alert": "Error Tracking: use the error tracker's own alerting (e.g. Sentry) or "
                            "a log-derived error counter.",
    "database-monitoring alert": "Database Monitoring samples: use the database exporter's metrics "
                                 "(postgres_exporter, mysqld_exporter) with a Prometheus alert.",
    "network-performance alert": "Network Performance Monitoring: use flow metrics from the CNI "
                                 "(e.g. Cilium Hubble) with a Prometheus alert.",
}


def convert(spec, ctx):
    reason = INSTEAD.get(spec.type) or (f"Monitor type {spec.type!r} has no Prometheus equivalent in dd2prom."
                                        if spec.type else "The monitor has no type.")
    raise NotConverted(Status.UNSUPPORTED, f"{spec.type or 'untyped'} monitor: {reason}")
