"""Widgets with no honest Grafana/Prometheus equivalent → an explaining text panel.

Each keeps its place on the dashboard as a text panel saying what it was,
why it is not carried over and what replaces it. ``unsupported``: the data
is not in Prometheus (logs, events, traces, RUM...). ``manual``: a person can
rebuild it from other converted output (alert rules, SLO rules, probes).
"""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import WidgetContext, explain_panel
from dd2prom.model import Status

_LOGS = "Logs are not in Prometheus; a Grafana logs panel on Loki (or another log store) replaces it."
_EVENTS = "Datadog events are not in Prometheus; Grafana annotations from an event source replace it."
_APM = "APM traces and service data are not in Prometheus; Grafana Tempo panels replace it."
_RUM = "Product-analytics (RUM) data is not in Prometheus."
_MONITORS = ("It shows Datadog monitors; the converted alert rules are in prometheus/rules/ and "
             "Grafana's alert list panel shows their state.")

REASONS: dict[str, tuple[Status, str]] = {
    "log_stream": (Status.UNSUPPORTED, _LOGS),
    "list_stream": (Status.UNSUPPORTED, "It lists logs, events, RUM or other records, which are not in Prometheus."),
    "event_stream": (Status.UNSUPPORTED, _EVENTS),
    "event_timeline": (Status.UNSUPPORTED, _EVENTS),
    "trace_service": (Status.UNSUPPORTED, _APM),
    "service_map": (Status.UNSUPPORTED, _APM),
    "topology_map": (Status.UNSUPPORTED, _APM),
    "profiling_flame_graph": (Status.UNSUPPORTED, "Profiles are not in Prometheus; Grafana Pyroscope replaces it."),
    "funnel": (Status.UNSUPPORTED, _RUM),
    "retention": (Status.UNSUPPORTED, _RUM),
    "sankey": (Status.UNSUPPORTED, _RUM),
    "run_workflow": (Status.UNSUPPORTED, "Datadog workflows have no Grafana equivalent."),
    "custom": (Status.UNSUPPORTED, "Datadog custom (app) widgets have no Grafana equivalent."),
    "embedded_app": (Status.UNSUPPORTED, "Embedded Datadog apps have no Grafana equivalent."),
    "incident_summary": (Status.UNSUPPORTED, "Datadog incidents are not in Prometheus."),
    "check_status": (Status.MANUAL, "Datadog service check status has no direct counterpart; the converted "
                     "checks' `up` or `probe_success` series can show it in a stat panel."),
    "alert_graph": (Status.MANUAL, _MONITORS),
    "alert_value": (Status.MANUAL, _MONITORS),
    "manage_status": (Status.MANUAL, _MONITORS),
    "slo": (Status.MANUAL, "It shows a Datadog SLO; the converted SLO's recording rules (prometheus/rules/slo-*.yaml) "
            "give the same ratios and error budget."),
    "slo_list": (Status.MANUAL, "It lists Datadog SLOs; see the converted SLO rules."),
}


def convert(wc: WidgetContext) -> dict[str, Any]:
    status, reason = REASONS.get(wc.type, (Status.UNSUPPORTED,
                                           f"Datadog widget type {wc.type or '(none)'!r} has no Grafana equivalent."))
    alert = (wc.shared.get("monitor_alerts") or {}).get(str(wc.definition.get("alert_id") or ""))
    if isinstance(alert, dict) and alert.get("alertname"):
        reason += f" This widget's monitor became the alert {alert['alertname']}."
    return explain_panel(wc, reason, status)
