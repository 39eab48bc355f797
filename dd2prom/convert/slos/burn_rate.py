"""Error-ratio windows, error budgets and multi-window, multi-burn-rate alerts.

The burn rate is the error ratio divided by the error budget (1 - target): at
burn rate 1 the budget lasts exactly the SLO timeframe. Following the SRE
workbook (chapter 5, "Alerting on SLOs") and Sloth, an alert fires only when
both a long and a short window burn faster than the factor, so it starts
fast and stops soon after the errors stop:

=========  ===========  ======  ============================================
severity   long/short   factor  meaning (30d timeframe)
=========  ===========  ======  ============================================
page       1h / 5m      14.4    2% of the budget gone in one hour
page       6h / 30m     6       5% of the budget gone in six hours
ticket     1d / 2h      3       10% of the budget gone in a day
ticket     3d / 6h      1       10% of the budget gone in three days
=========  ===========  ======  ============================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dd2prom.convert.monitors.message import go_escape
from dd2prom.convert.slos.spec import Objective, Sli, SloSpec, fmt_number, ratio_name, record

ALERTNAME = "SLOErrorBudgetBurn"
OBJECTIVE, WARNING, REMAINING = "slo:objective:ratio", "slo:warning:ratio", "slo:error_budget_remaining:ratio"
PAGE = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
TICKET = (("1d", "2h", 3.0), ("3d", "6h", 1.0))


@dataclass
class BurnAlert:
    """An alert firing while any (long, short, factor) condition holds."""

    alertname: str
    objective: Objective
    conditions: tuple[tuple[str, str, float], ...]
    labels: dict[str, str]
    annotations: dict[str, str]

    @property
    def windows(self) -> list[str]:
        return [w for long, short, _ in self.conditions for w in (long, short)]


@dataclass
class BudgetAlert:
    """An alert firing while more than ``consumed_percent`` of the budget is used."""

    alertname: str
    objective: Objective
    consumed_percent: float
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class SloRules:
    """Everything generated for one SLO, before it is serialised."""

    spec: SloSpec
    sli: Sli
    alerts: list[BurnAlert | BudgetAlert] = field(default_factory=list)


def burn_expr(spec: SloSpec, alert: BurnAlert) -> str:
    budget = fmt_number(alert.objective.budget)
    parts = []
    for long, short, factor in alert.conditions:
        limit = f"({fmt_number(factor)} * {budget})"
        parts.append(f"({ratio_name(long)}{spec.selector} > {limit} and {ratio_name(short)}{spec.selector} > {limit})")
    return "\nor\n".join(parts)


def budget_expr(spec: SloSpec, alert: BudgetAlert) -> str:
    sel = spec.selector[:-1] + f',slo_timeframe="{alert.objective.timeframe}"}}'
    return f"100 * (1 - {REMAINING}{sel}) > {fmt_number(alert.consumed_percent)}"


def alert_rule(spec: SloSpec, alert: BurnAlert | BudgetAlert) -> dict[str, Any]:
    """The rule; label and annotation values are templates to Prometheus, so
    text from Datadog is escaped to print verbatim."""
    expr = burn_expr(spec, alert) if isinstance(alert, BurnAlert) else budget_expr(spec, alert)
    return {"alert": alert.alertname, "expr": expr,
            "labels": {k: go_escape(v) for k, v in alert.labels.items()},
            "annotations": {k: go_escape(v) for k, v in alert.annotations.items()}}


def window_rules(spec: SloSpec, sli: Sli) -> list[dict[str, Any]]:
    """Error ratio per window, then objective, warning and remaining budget per timeframe."""
    rules = [record(ratio_name(w), expr, spec.labels) for w, expr in sli.ratios.items()]
    for obj in spec.objectives:
        labels = {**spec.labels, "slo_timeframe": obj.timeframe}
        rules.append(record(OBJECTIVE, f"vector({fmt_number(obj.ratio)})", labels))
        if obj.warning is not None:
            rules.append(record(WARNING, f"vector({fmt_number(obj.warning / 100)})", labels))
        rules.append(record(REMAINING, f"1 - ({ratio_name(obj.timeframe)}{spec.selector} / {fmt_number(obj.budget)})",
                            labels))
    return rules


def default_alerts(spec: SloSpec, labels: dict[str, str]) -> list[BurnAlert]:
    """The page and ticket alerts on the primary objective."""
    obj = spec.primary
    assert obj is not None
    out = []
    for severity, conditions in (("page", PAGE), ("ticket", TICKET)):
        rates = " or ".join(f"{fmt_number(f)}x over {lw} and {sw}" for lw, sw, f in conditions)
        out.append(BurnAlert(
            ALERTNAME, obj, conditions,
            labels={"severity": severity, "slo_timeframe": obj.timeframe, **labels},
            annotations={
                "summary": f"SLO {spec.name!r} is burning its {obj.timeframe} error budget too fast ({severity}).",
                "description": (f"Error ratio above the burn rate {rates} (target {fmt_number(obj.target)}% over "
                                f"{obj.timeframe}, error budget {fmt_number(obj.budget * 100)}%)."),
            }))
    return out


def unreachable(spec: SloSpec, alerts: list[BurnAlert]) -> list[str]:
    """Sentences for burn-rate conditions no error ratio (at most 1) can meet."""
    out = []
    for alert in alerts:
        for long, short, factor in alert.conditions:
            if factor * alert.objective.budget >= 1:
                out.append(f"At target {fmt_number(alert.objective.target)}% a {fmt_number(factor)}x burn rate "
                           f"({long}/{short}) needs an error ratio of 100% or more: that condition never fires.")
    return out
