"""SLO alert monitors (Datadog monitor type ``slo alert``):

* ``burn_rate("<slo id>").over("30d").long_window("1h").short_window("5m") > 14.4``
* ``error_budget("<slo id>").over("30d") > 75`` (percent of the budget used)

Each becomes an alert on the SLO's recorded windows, with the monitor's
critical and warning thresholds as two severities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dd2prom.convert.downtimes.matchers import MONITOR_LABEL, STATE_LABEL, tag_labels
from dd2prom.convert.slos.burn_rate import BudgetAlert, BurnAlert
from dd2prom.convert.slos.spec import SloSpec, duration_seconds, fmt_number

_Q = r"""["']([^"']+)["']"""
_BURN = re.compile(rf"^\s*burn_rate\(\s*{_Q}\s*\)\s*\.over\(\s*{_Q}\s*\)"
                   rf"(?:\s*\.long_window\(\s*{_Q}\s*\))?(?:\s*\.short_window\(\s*{_Q}\s*\))?"
                   r"\s*(>=|>)\s*([-+0-9.eE]+)\s*$")
_BUDGET = re.compile(rf"^\s*error_budget\(\s*{_Q}\s*\)\s*\.over\(\s*{_Q}\s*\)\s*(>=|>)\s*([-+0-9.eE]+)\s*$")
RESERVED = ("alertname", "severity", "dd_slo_id", "slo_name", "slo_timeframe", MONITOR_LABEL, STATE_LABEL)
# severity → the Datadog state label the monitors' routes and inhibit rules use
STATES = {"critical": "alert", "warning": "warn"}


@dataclass
class SloAlertMonitor:
    monitor_id: str
    name: str
    slo_id: str
    timeframe: str
    kind: str                      # "burn_rate" | "error_budget"
    long_window: str | None
    short_window: str | None
    thresholds: dict[str, float]   # severity → threshold (burn rate, or percent of budget used)
    tags: list[str]

    @property
    def windows(self) -> list[str]:
        return [w for w in (self.long_window, self.short_window) if w]


def _window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse(monitor_id: str, data: dict[str, Any]) -> SloAlertMonitor:
    """Raises ValueError with a sentence when the query is not an SLO alert query."""
    query = str(data.get("query") or "")
    options = data.get("options") if isinstance(data.get("options"), dict) else {}
    thresholds_opt = options.get("thresholds") if isinstance(options.get("thresholds"), dict) else {}
    m = _BURN.match(query)
    b = None if m else _BUDGET.match(query)
    if not m and not b:
        raise ValueError(f"SLO alert query {query!r} is neither burn_rate(...) nor error_budget(...).")
    groups = m.groups() if m else b.groups()
    critical = float(groups[-1])
    thresholds = {"critical": critical}
    if isinstance(thresholds_opt.get("warning"), (int, float)):
        thresholds["warning"] = float(thresholds_opt["warning"])
    long_w = short_w = None
    if m:
        long_w = m.group(3) or "1h"
        long_s = duration_seconds(long_w)
        if long_s is None:
            raise ValueError(f"Long window {long_w!r} is not a duration.")
        short_w = m.group(4) or _window(max(long_s // 12, 60))
        if duration_seconds(short_w) is None:
            raise ValueError(f"Short window {short_w!r} is not a duration.")
    return SloAlertMonitor(str(monitor_id), str(data.get("name") or monitor_id), groups[0], groups[1],
                           "burn_rate" if m else "error_budget", long_w, short_w, thresholds,
                           [str(t) for t in data.get("tags") or [] if isinstance(t, str)]
                           if isinstance(data.get("tags"), list) else [])


def alert_name(name: str) -> str:
    """A CamelCase alert name from a monitor name (``p99 latency SLO`` → ``P99LatencySlo``)."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    text = "".join(w[:1].upper() + w[1:] for w in words)[:120]
    return text if text and not text[0].isdigit() else f"Monitor{text}"


def alerts(mon: SloAlertMonitor, spec: SloSpec) -> tuple[list[BurnAlert | BudgetAlert], list[str]]:
    """The alerts for one monitor on its SLO, and sentences on what differs."""
    notes: list[str] = []
    obj = spec.objective(mon.timeframe)
    if obj is None:
        obj = spec.primary
        notes.append(f"The SLO has no {mon.timeframe} target; the alert uses its {obj.timeframe} target "
                     f"({fmt_number(obj.target)}%).")
    base = {MONITOR_LABEL: mon.monitor_id, "slo_timeframe": obj.timeframe, **tag_labels(mon.tags, RESERVED)}
    out: list[BurnAlert | BudgetAlert] = []
    for severity, threshold in mon.thresholds.items():
        labels = {"severity": severity, STATE_LABEL: STATES[severity], **base}
        if mon.kind == "burn_rate":
            out.append(BurnAlert(
                alert_name(mon.name), obj, ((mon.long_window, mon.short_window, threshold),), labels,
                {"summary": f"{mon.name}: SLO {spec.name!r} burns its {obj.timeframe} error budget faster "
                            f"than {fmt_number(threshold)}x ({severity}).",
                 "description": f"Error ratio above {fmt_number(threshold)} times the error budget over both "
                                f"{mon.long_window} and {mon.short_window} (Datadog monitor {mon.monitor_id})."}))
        else:
            out.append(BudgetAlert(
                alert_name(mon.name), obj, threshold, labels,
                {"summary": f"{mon.name}: SLO {spec.name!r} has used more than {fmt_number(threshold)}% of its "
                            f"{obj.timeframe} error budget ({severity}).",
                 "description": f"Datadog monitor {mon.monitor_id}."}))
    return out, notes
