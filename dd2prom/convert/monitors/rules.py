"""Prometheus rules of one monitor: the recorded condition value, one alerting
rule per threshold (critical, warning, with recovery hysteresis) and the
per-group no-data rule.

Why a recording rule first: every threshold rule and the no-data rule read the
same value ``dd2prom:monitor_value{dd_monitor_id="…"}`` (the left side of the
Datadog condition, window applied), so the expression is evaluated once, the
alerts' ``$value`` is Datadog's ``{{value}}``, and the generated promtool tests
can drive the threshold logic with exact values.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

VALUE_METRIC = "dd2prom:monitor_value"
INPUT_METRIC = "dd2prom:monitor_input"   # a model's input series (anomalies, forecast), recorded once per evaluation
MONITOR_LABEL = "dd_monitor_id"
STATE_LABEL = "dd_state"           # alert | warn | no_data (the Datadog state the rule stands for)
SEVERITY = {"alert": "critical", "warn": "warning", "no_data": "warning"}
NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}
NO_DATA_LOOKBACK = 24 * 3600       # a group missing longer than this is forgotten (Datadog drops it too)


@dataclass
class Rule:
    """One Prometheus rule; ``state`` is None for recording rules."""

    name: str
    expr: str
    state: str | None = None
    for_seconds: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The rule as a rule file holds it (its labels and annotations are the
        rule's own dicts: the document is only dumped)."""
        d: dict[str, Any] = {("alert" if self.state else "record"): self.name, "expr": self.expr}
        if self.for_seconds:
            d["for"] = duration(self.for_seconds)
        if self.labels:
            d["labels"] = self.labels
        if self.annotations:
            d["annotations"] = self.annotations
        return d


@functools.lru_cache(maxsize=4096)
def duration(seconds: float) -> str:
    """A Prometheus duration (largest exact unit; a few durations, written again and again)."""
    seconds = round(seconds)
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# The promtool tests print the same few values (thresholds, levels between them)
# over and over: number() and go_float() are memoised (bounded, pure functions).
@functools.lru_cache(maxsize=1 << 14)
def number(v: float) -> str:
    """A threshold as PromQL literal text."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


def go_float(v: float) -> str:
    """How Go's fmt prints a float64 with %v (what ``{{ $value }}`` shows)."""
    if v == 0:   # 0.0 and -0.0 are one cache key but print differently
        return "-0" if math.copysign(1, v) < 0 else "0"
    return _go_nonzero(v)


@functools.lru_cache(maxsize=1 << 14)
def _go_nonzero(v: float) -> str:
    """:func:`go_float` of anything but zero."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign, digits, exp = Decimal(repr(float(v))).normalize().as_tuple()
    ds = "".join(map(str, digits))
    dp = len(ds) + exp                   # position of the decimal point
    x = dp - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 6:                 # strconv's shortest 'g' switches to %e here
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= len(ds):
        return f"{neg}{ds}{'0' * (dp - len(ds))}"
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def selector(monitor_id: str, metric: str = VALUE_METRIC) -> str:
    return f'{metric}{{{MONITOR_LABEL}="{quote(monitor_id)}"}}'


def quote(s: str) -> str:
    """Escape a PromQL string literal's content."""
    return s.replace("\\", "\\\\").replace('"', '\\"')


def on_clause(group: list[str]) -> str:
    return f"on({', '.join([MONITOR_LABEL, *group])})"


def firing_alert(alert_name: str, severity: str) -> str:
    """The ALERTS series of the rule's own firing alert (hysteresis, kept status)."""
    return f'ALERTS{{alertname="{quote(alert_name)}", alertstate="firing", severity="{severity}"}}'


def threshold_expr(value: str, comparator: str, threshold: float, recovery: float | None,
                   alert_name: str, severity: str, group: list[str],
                   keep: tuple[str, int] | None = None) -> str:
    """``value cmp threshold``; with a recovery threshold, a firing alert keeps
    firing while ``value cmp recovery`` (Datadog's hysteresis), read from ALERTS.
    ``keep`` = (recorded value selector, seconds): a firing group whose value
    stops keeps firing with its last value for that long (Datadog keeps the last
    status of a group with missing data)."""
    expr = f"{value} {comparator} {number(threshold)}"
    firing = firing_alert(alert_name, severity)
    parts = [expr]
    if recovery is not None and recovery != threshold:
        parts.append(f"{value} {comparator} {number(recovery)} and {on_clause(group)} {firing}")
    if keep:
        raw, seconds = keep
        parts.append(f"last_over_time({raw}[{duration(seconds)}]) unless {on_clause(group)} {raw} "
                     f"and {on_clause(group)} {firing}")
    return parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)


def no_data_expr(value: str, group: list[str], lookback_seconds: int) -> str:
    """Groups that reported within the lookback but have no value now: fires per
    group, not only when the whole metric vanished."""
    by = f"group by ({', '.join([MONITOR_LABEL, *group])})"
    return (f"{by} (max_over_time({value}[{duration(lookback_seconds)}])) "
            f"unless {on_clause(group)} {by} ({value})")
