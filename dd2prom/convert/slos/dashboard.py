"""The generated Grafana SLO dashboard: one row per SLO with the SLI and the
remaining error budget per timeframe and the burn rate over the alert windows."""

from __future__ import annotations

from typing import Any

from dd2prom.convert.dashboards.panel import DATASOURCE
from dd2prom.convert.dashboards.variables import DATASOURCE_VARIABLE
from dd2prom.convert.slos.burn_rate import PAGE, REMAINING, TICKET
from dd2prom.convert.slos.spec import SloSpec, fmt_number, ratio_name

UID = "slos"
_STEPS_BURN = [{"color": "green", "value": None}, {"color": "orange", "value": TICKET[0][2]},
               {"color": "red", "value": PAGE[0][2]}]


def _target(expr: str, legend: str, ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


def _stat(pid: int, title: str, expr: str, steps: list[dict[str, Any]], x: int, y: int, w: int,
          decimals: int = 3) -> dict[str, Any]:
    return {"id": pid, "type": "stat", "title": title, "datasource": DATASOURCE,
            "gridPos": {"h": 5, "w": w, "x": x, "y": y}, "targets": [_target(expr, title)],
            "fieldConfig": {"defaults": {"unit": "percentunit", "decimals": decimals,
                                         "thresholds": {"mode": "absolute", "steps": steps}}, "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto",
                        "justifyMode": "auto", "orientation": "auto"}}


def _row(spec: SloSpec, next_id: int, y: int) -> tuple[list[dict[str, Any]], int, int]:
    panels: list[dict[str, Any]] = [{"id": next_id, "type": "row", "title": f"{spec.name} ({spec.type} SLO)",
                                     "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}]
    next_id, y = next_id + 1, y + 1
    width = 12 // (2 * max(1, len(spec.objectives)))   # stats share the left half
    for i, obj in enumerate(spec.objectives):
        sli_steps = [{"color": "red", "value": None}]
        if obj.warning is not None and obj.warning > obj.target:
            sli_steps.append({"color": "orange", "value": obj.ratio})
            sli_steps.append({"color": "green", "value": round(obj.warning / 100, 12)})
        else:
            sli_steps.append({"color": "green", "value": obj.ratio})
        panels.append(_stat(next_id, f"SLI over {obj.timeframe} (target {fmt_number(obj.target)}%)",
                            f"1 - {ratio_name(obj.timeframe)}{spec.selector}", sli_steps, 2 * i * width, y, width))
        sel = spec.selector[:-1] + f',slo_timeframe="{obj.timeframe}"}}'
        panels.append(_stat(next_id + 1, f"Error budget left ({obj.timeframe})", f"{REMAINING}{sel}",
                            [{"color": "red", "value": None}, {"color": "orange", "value": 0},
                             {"color": "green", "value": 0.25}], (2 * i + 1) * width, y, width, decimals=1))
        next_id += 2
    if spec.primary is not None:
        budget = fmt_number(spec.primary.budget)
        windows = [w for cond in PAGE + TICKET for w in cond[:2]]
        targets = [_target(f"{ratio_name(w)}{spec.selector} / {budget}", w, chr(ord("A") + i))
                   for i, w in enumerate(dict.fromkeys(windows))]
        panels.append({"id": next_id, "type": "timeseries", "datasource": DATASOURCE,
                       "title": f"Burn rate ({spec.primary.timeframe} budget; page at 14.4x/6x, ticket at 3x/1x)",
                       "gridPos": {"h": 5, "w": 12, "x": 12, "y": y}, "targets": targets,
                       "fieldConfig": {"defaults": {"unit": "none", "thresholds": {"mode": "absolute",
                                                                                    "steps": _STEPS_BURN},
                                                    "custom": {"thresholdsStyle": {"mode": "line"}}},
                                       "overrides": []},
                       "options": {"legend": {"displayMode": "list", "placement": "bottom", "calcs": [],
                                              "showLegend": True}}})
        next_id += 1
    return panels, next_id, y + 5


def dashboard(specs: list[SloSpec]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    next_id, y = 1, 0
    for spec in specs:
        row, next_id, y = _row(spec, next_id, y)
        panels += row
    return {
        "uid": UID, "title": "SLOs (converted from Datadog)", "tags": ["dd2prom", "slo"],
        "schemaVersion": 39, "version": 1, "editable": True, "timezone": "browser",
        "time": {"from": "now-7d", "to": "now"}, "refresh": "5m",
        "templating": {"list": [dict(DATASOURCE_VARIABLE)]},
        "annotations": {"list": []}, "panels": panels,
    }
