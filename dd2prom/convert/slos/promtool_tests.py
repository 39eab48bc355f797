"""promtool unit tests that show each generated alert fires at its burn rate
(or budget use) and stays quiet below it.

Metric and time-slice SLOs: the tests feed the windowed error ratios
directly (their recording rules read raw metrics that the test does not
have, so they record nothing and cannot collide). Monitor SLOs: the tests
feed ``ALERTS`` series, which runs the whole chain of rules.
"""

from __future__ import annotations

import json
from typing import Any

from dd2prom.convert.slos.burn_rate import BudgetAlert, BurnAlert, SloRules
from dd2prom.convert.slos.spec import fmt_number, ratio_name

EVAL = "10m"


def _series(name: str, labels: dict[str, str]) -> str:
    return name + _braces(labels)


def _braces(labels: dict[str, str]) -> str:
    """``{k="v",...}``, the label part of a series."""
    return "{" + ",".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in labels.items()) + "}"


def _constant(value: float, minutes: int = 60) -> str:
    return f"{fmt_number(value)}+0x{minutes}"


def _expected(rules: SloRules, alert: BurnAlert | BudgetAlert, extra: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {**rules.spec.labels, **(extra or {}), **alert.labels}
    return {"exp_labels": labels, "exp_annotations": dict(alert.annotations)}


def _case(name: str, series: list[tuple[str, str]], alertname: str,
          expected: list[dict[str, Any]], shared: dict[tuple, dict[str, Any]], eval_time: str = EVAL) -> dict[str, Any]:
    """``series``: (series as text, values). ``shared``: the input series and
    alert tests of a test file so far: an equal one is the same object (the YAML
    writer writes it once and copies it, see fastyaml._sequence); ``expected``'s
    items are the file's one object per alert."""
    inputs = [shared.get(key) or shared.setdefault(key, {"series": key[0], "values": key[1]}) for key in series]
    if not inputs:  # promtool needs some input; this series matches no rule
        inputs = [{"series": 'dd2prom_test_placeholder{job="none"}', "values": "0+0x10"}]
    key = ("alert test", eval_time, alertname, *map(id, expected))
    test = shared.get(key) or shared.setdefault(key, {"eval_time": eval_time, "alertname": alertname,
                                                      "exp_alerts": expected})
    return {"name": name, "interval": "1m", "input_series": inputs, "alert_rule_test": [test]}


def _fires(alert: BurnAlert | BudgetAlert, ratios: dict[str, float]) -> bool:
    """Whether ``alert`` fires when the windows have these error ratios."""
    budget = alert.objective.budget
    if isinstance(alert, BudgetAlert):
        ratio = ratios.get(alert.objective.timeframe)
        return ratio is not None and 100 * ratio / budget > alert.consumed_percent
    return any(long in ratios and short in ratios and min(ratios[long], ratios[short]) > f * budget
               for long, short, f in alert.conditions)


def _ratio_cases(rules: SloRules) -> list[dict[str, Any]]:
    """Error ratios fed directly: each condition at 1.1x and 0.9x its limit;
    every alert of the same name that fires on that input is expected."""
    # an alert's expectation is one object in every case that expects it: the
    # YAML writer writes it once and copies it (fastyaml caches dicts by identity)
    expectations = [_expected(rules, a) for a in rules.alerts]
    braces = _braces(rules.spec.labels)
    shared: dict[tuple, dict[str, Any]] = {}
    return [_case(name, [(ratio + braces, values) for ratio, values in series], alertname,
                  [expectations[i] for i in firing], shared)
            for alertname, name, series, firing in _ratio_plan(rules.alerts)]


# (alertname, case name, ((ratio series name, values), ...), indexes of the alerts expected)
_Plan = tuple[tuple[str, str, tuple[tuple[str, str], ...], tuple[int, ...]], ...]
_plans: dict[tuple, _Plan] = {}
_PLANS_MAX = 1_000


def _ratio_plan(alerts: list[BurnAlert | BudgetAlert]) -> _Plan:
    """:func:`_ratio_cases` without the SLO's labels. It reads only what
    :func:`_shape` keeps of each alert: SLOs with the same targets and alerts
    (most of an organisation's) share one plan, worked out once."""
    key = tuple(map(_shape, alerts))
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) >= _PLANS_MAX:
            _plans.clear()
        plan = _plans[key] = _make_plan(alerts)
    return plan


def _shape(alert: BurnAlert | BudgetAlert) -> tuple:
    """Every field of ``alert`` :func:`_make_plan` reads."""
    obj = alert.objective
    return (type(alert), alert.alertname, alert.labels.get("severity", ""), obj.timeframe, obj.budget,
            alert.consumed_percent if isinstance(alert, BudgetAlert) else alert.conditions)


def _make_plan(alerts: list[BurnAlert | BudgetAlert]) -> _Plan:
    inputs: list[tuple[str, str, dict[str, float]]] = []
    for alert in alerts:
        if isinstance(alert, BudgetAlert):
            tf = alert.objective.timeframe
            for scale, how in ((1.1, "fires"), (0.9, "stays quiet")):
                inputs.append((alert.alertname,
                               f"{alert.alertname} {alert.labels.get('severity', '')}: "
                               f"{fmt_number(alert.consumed_percent * scale)}% of the {tf} budget used {how}",
                               {tf: alert.consumed_percent * scale / 100 * alert.objective.budget}))
            continue
        for long, short, factor in alert.conditions:
            limit = factor * alert.objective.budget
            for scale, short_scale, how in ((1.1, 1.1, "fires"), (0.9, 0.9, "stays quiet"),
                                            (1.1, 0.0, "with the short window recovered stays quiet")):
                inputs.append((alert.alertname,
                               f"{alert.alertname} {alert.labels.get('severity', '')}: burn rate "
                               f"{fmt_number(factor * scale)}x over {long} and "
                               f"{fmt_number(factor * short_scale)}x over {short} {how}",
                               {long: limit * scale, short: limit * short_scale}))
    return tuple((alertname, name, tuple((ratio_name(w), _constant(v)) for w, v in ratios.items()),
                  tuple(i for i, a in enumerate(alerts) if a.alertname == alertname and _fires(a, ratios)))
                 for alertname, name, ratios in inputs)


def _alerts_cases(rules: SloRules, alerts_labels: dict[str, str]) -> list[dict[str, Any]]:
    """ALERTS fed: a monitor firing for an hour uses the whole budget (error
    ratio 1 in every window); no alerts uses none."""
    spec, out = rules.spec, []
    firing_labels = {"alertname": "DatadogMonitor", "alertstate": "firing", **alerts_labels}
    firing = [(_series("ALERTS", firing_labels), "1+0x60")]
    by_name: dict[str, list[BurnAlert | BudgetAlert]] = {}
    shared: dict[tuple, dict[str, Any]] = {}
    for alert in rules.alerts:
        by_name.setdefault(alert.alertname, []).append(alert)
    for alertname, alerts in by_name.items():
        expected = []
        for alert in alerts:
            if isinstance(alert, BudgetAlert):
                reachable = 100 / alert.objective.budget > alert.consumed_percent
            else:
                reachable = any(f * alert.objective.budget < 1 for _, _, f in alert.conditions)
            if reachable:
                expected.append(_expected(rules, alert))
        out.append(_case(f"{alertname}: a monitor alerting for 30m fires", firing, alertname, expected,
                         shared, "30m"))
        out.append(_case(f"{alertname}: no monitor alerting stays quiet", [], alertname, [], shared, "30m"))
    # half of the last hour alerting → error ratio 0.5 over 1h
    out.append({"name": "error ratio over 1h with a monitor alerting 30 of the last 60 minutes", "interval": "1m",
                "input_series": [{"series": firing[0][0], "values": "1+0x29 stale"}],
                "promql_expr_test": [{"eval_time": "59m", "expr": ratio_name("1h") + spec.selector,
                                      "exp_samples": [{"labels": _series(ratio_name("1h"), spec.labels),
                                                       "value": 0.5}]}]})
    return out


def test_file(rules: SloRules, rule_file: str, alerts_labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The promtool test document; ``alerts_labels`` (monitor SLOs) are the
    labels of an ALERTS series the SLI counts."""
    tests = _alerts_cases(rules, alerts_labels) if alerts_labels is not None else _ratio_cases(rules)
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}

