"""Result and context types of the transpiler (the contract other stages use)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dd2prom.model import Status

Target = Literal["monitor", "dashboard", "plain"]


@dataclass
class TranslateContext:
    """What the transpiler may know beyond the query text."""

    # "monitor": the window comes from the monitor's time aggregation;
    # "dashboard": windows follow Grafana's $__interval / $__rate_interval and
    #   template variables become Grafana variables;
    # "plain": a bare query translated as an instant expression (CLI default).
    target: Target = "plain"
    # snapshot metrics/ metadata: {datadog metric name: {"type": "count"|"rate"|"gauge"|"distribution", "unit": ...}}
    metric_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    # user mapping overrides already merged in (None = shipped tables only)
    mappings: Any = None
    # Datadog template variable name → Grafana variable name (dashboards)
    template_variables: dict[str, str] = field(default_factory=dict)
    # Datadog template variable name → the tag it filters on (its "prefix"), for a
    # lone `$env` in a scope; default: the variable's own name
    template_variable_tags: dict[str, str] = field(default_factory=dict)
    # default window for rate()/increase() when the query gives none (plain target)
    default_window: str = "5m"
    # explicit evaluation window for rate()/increase()/as_count (SLO recording
    # rules over 5m/30m/1h/...); overrides the monitor window and default_window
    window: str | None = None
    # seconds every selector is shifted back (``offset``): a monitor's
    # evaluation_delay evaluates the query on data this old
    offset_seconds: int = 0
    # parse the generated PromQL before answering (``Translation.ok`` then
    # promises valid PromQL). Off only for a caller that parses every expression
    # it emits built on the translation (dashboards: the panel query wraps it),
    # so the same text is not parsed twice
    check: bool = True
    # False for a caller that only reads the translations it is given (dashboards):
    # the memo then hands out its own, not a copy (13,000 copies at 500 dashboards)
    copy_results: bool = True
    # translations already made, shared by the contexts derived from one base
    # (ConvertContext.translate_context copies the fields): the same query text
    # recurs across monitors and widgets. Keyed by the query and every field above.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class MonitorCondition:
    """The parts of a monitor query ``time_agg(last_5m):expr > 90``."""

    time_aggregation: str            # avg | sum | min | max | last | pct_change | change ...
    window_seconds: int              # last_5m → 300
    expr: str                        # PromQL of the left side, window already applied
    comparator: str                  # > >= < <= == !=
    threshold: float | None          # the threshold written in the query


@dataclass
class Translation:
    query: str
    promql: str | None
    status: Status
    notes: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)          # Datadog metric names read
    prom_metrics: list[str] = field(default_factory=list)     # Prometheus metric names emitted
    labels: list[str] = field(default_factory=list)           # Prometheus labels used (by / matchers)
    group_by: list[str] = field(default_factory=list)         # output labels of the expression
    unmapped_metrics: list[str] = field(default_factory=list)
    monitor: MonitorCondition | None = None
    error: str | None = None                                  # message with caret line when status is error

    def copy(self) -> "Translation":
        """A copy whose lists (and monitor condition) callers may change without
        changing this one's. (Spelled out: the memo hands out a copy per call,
        tens of thousands per run, and ``dataclasses.replace`` is 3x slower.)"""
        return Translation(self.query, self.promql, self.status, list(self.notes), list(self.metrics),
                           list(self.prom_metrics), list(self.labels), list(self.group_by),
                           list(self.unmapped_metrics),
                           replace(self.monitor) if self.monitor is not None else None, self.error)

    @property
    def ok(self) -> bool:
        return self.promql is not None and self.status not in (Status.ERROR, Status.UNSUPPORTED)

    def to_json(self) -> dict[str, Any]:
        d = {
            "query": self.query,
            "promql": self.promql,
            "status": Status(self.status).value,
            "notes": list(self.notes),
            "metrics": list(self.metrics),
            "prom_metrics": list(self.prom_metrics),
            "labels": list(self.labels),
            "group_by": list(self.group_by),
            "unmapped_metrics": list(self.unmapped_metrics),
        }
        if self.monitor is not None:
            d["monitor"] = {
                "time_aggregation": self.monitor.time_aggregation,
                "window_seconds": self.monitor.window_seconds,
                "expr": self.monitor.expr,
                "comparator": self.monitor.comparator,
                "threshold": self.monitor.threshold,
            }
        if self.error:
            d["error"] = self.error
        return d
