"""promtool unit tests for threshold monitors.

Each test feeds the recorded monitor value (``dd2prom:monitor_value``) with
series that stay below the thresholds, cross the critical threshold, sit at the
warning level, fall back between the recovery and the trigger threshold
(hysteresis), and stop reporting (no-data rule). The expected alerts, their
labels and annotations are computed here by simulating the rules, the same way
Prometheus evaluates them; ``promtool test rules`` then checks the generated
rules against that expectation.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

from dd2prom.convert.monitors import message as msg
from dd2prom.convert.monitors.build import Level, MonitorRules
from dd2prom.convert.monitors.rules import (
    MONITOR_LABEL,
    VALUE_METRIC,
    go_float,
    number,
    quote,
)
from dd2prom.emit import fastyaml
from dd2prom.emit.yamlio import dump_yaml_items

STEP = 60                 # seconds between samples and evaluations
_INTERVAL = f"{STEP}s"
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
            "==": operator.eq, "!=": operator.ne}
LOOKBACK_MIN = 5          # Prometheus' instant-vector lookback (minutes)
NODATA_STOP = 10          # minutes of values before the no-data test's series stops


def _minutes(seconds: int) -> int:
    return -(-seconds // STEP)


Runs = list[tuple[float | None, int]]   # a series as (value, minutes) runs; None: no value


class Shape(NamedTuple):
    """What decides when a threshold rule fires (the numbers of its :class:`Level`)."""

    state: str
    threshold: float
    recovery: float | None
    for_seconds: int
    delay: int
    keep: int
    # the thresholds as printed: 0.0 and -0.0 are equal, but the tests' values show their sign
    spelling: str = ""

    @classmethod
    def of(cls, level: Level) -> "Shape":
        return cls(level.state, level.threshold, level.recovery, level.rule.for_seconds,  # type: ignore[arg-type]
                   level.delay, level.keep, f"{level.threshold!r} {level.recovery!r}")


def _firing(level: Shape, comparator: str, runs: Runs, checks: list[int]) -> dict[int, bool]:
    """Whether ``level`` fires at each minute of ``checks`` (for: and recovery
    hysteresis included), as Prometheus evaluates the rule every minute. The
    value is constant within a run, and so is the condition: the state is worked
    out run by run, not minute by minute (tests of week-long ``for:`` hold ten
    thousand minutes; ``tests/monitors/test_ruletests.py`` checks both agree)."""
    hold = _minutes(level.for_seconds)
    first = _minutes(level.delay)      # the first minute a (new) group is evaluated
    keep = _minutes(level.keep)        # a firing group whose value stopped fires this long after it
    crosses = _COMPARE[comparator]
    total = sum(count for _, count in runs)
    if total <= checks[-1]:
        runs = [*runs, (None, checks[-1] + 1 - total)]
    # after the previous minute: firing?, since when the condition holds, last minute with a value
    firing, active, seen = False, None, None
    out: dict[int, bool] = {}
    start = 0
    for value, count in runs:
        if not count:
            continue
        end = start + count
        lo = hi = end                  # the run fires at minutes lo … hi - 1
        holds = False                  # the condition holds at its last minute
        if value is None:
            if firing and seen is not None:
                lo, hi = start, min(end, seen + keep)
        else:
            seen = end - 1
            evaluated = max(start, first)
            if evaluated > start:      # not evaluated yet: nothing holds
                firing, active = False, None
            if evaluated < end and crosses(value, level.threshold):
                holds = True
                active = evaluated if active is None else active
                lo = max(evaluated, active + hold)
            elif evaluated < end and firing and level.recovery is not None and crosses(value, level.recovery):
                lo = start             # between recovery and trigger: a firing alert stays firing
        for at in checks:
            if start <= at < end:
                out[at] = lo <= at < hi
        firing = lo < hi == end
        if not (firing or holds):
            active = None
        start = end
    return out


_ESCAPED = '{{ "{{" }}'   # "{{" in a template (message.go_escape)


def _unescape(value: str) -> str:
    return value.replace(_ESCAPED, "{{")


def _last(runs: Runs, at: int) -> float:
    """The last value at or before minute ``at``."""
    start, last = 0, None
    for value, count in runs:
        if start > at:
            break
        if count and value is not None:
            last = value
        start += count
    assert last is not None, "an alert fires only once its series had a value"
    return last


def _rule_labels(level: Level) -> dict[str, str]:
    """The labels the rule adds to its alerts, as promtool shows them (most
    are the rule's own: only read)."""
    labels = level.rule.labels
    if _ESCAPED not in "\0".join(labels.values()):
        return labels
    return {k: _unescape(v) for k, v in labels.items()}


def _expected(level: Level, rule_labels: dict[str, str], labels: dict[str, str], value: float) -> dict[str, Any]:
    exp_labels = {**labels, **rule_labels}
    shown = go_float(value)
    annotations = {k: msg.render(parts, labels, shown) for k, parts in level.annotation_parts.items()}
    return {"exp_labels": exp_labels, "exp_annotations": annotations}


def _values(comparator: str, levels: tuple[Shape, ...]) -> dict[str, float] | None:
    """Values that are safely ok / critical / warning / between recovery and trigger."""
    up = comparator in (">", ">=")
    if comparator not in (">", ">=", "<", "<="):
        return None
    sign = 1 if up else -1
    crit = next(lv for lv in levels if lv.state == "alert")
    warn = next((lv for lv in levels if lv.state == "warn"), None)
    u = {k: sign * v for k, v in (("tc", crit.threshold), ("tw", warn and warn.threshold),
                                   ("rc", crit.recovery), ("rw", warn and warn.recovery)) if v is not None}
    out = {"ok": min(u.values()) - 1, "crit": max(u.values()) + 1}
    if "tw" in u and u["tw"] < u["tc"]:
        out["warn"] = (u["tw"] + u["tc"]) / 2
    if "rc" in u and u["rc"] < u["tc"]:
        out["between"] = (u["rc"] + u["tc"]) / 2
    return {k: sign * v for k, v in out.items()}


class _Plan(NamedTuple):
    """The scenarios of a monitor's tests and when its rules fire in them: the
    same for every monitor with the same thresholds, windows and comparator."""

    scenarios: dict[str, Runs]
    nodata: Runs                                # the no-data test's series: ok, then nothing
    # per case: its scenarios, its name's slot and label; per check minute: the
    # minute as written, the slot of what fires then and those (scenario, level, value)
    cases: list[tuple[list[str], str, str, list[tuple[str, str | None, list[tuple[str, int, float]]]]]]
    # the slots of the checks where something fires, and what (in case order)
    firing: list[tuple[str, list[tuple[str, int, float]]]]


@functools.lru_cache(maxsize=1024)
def _plan(comparator: str, levels: tuple[Shape, ...], grouped: bool) -> _Plan | None:
    """Tests are simulated once per shape (a few hundred among thousands of monitors)."""
    vals = _values(comparator, levels)
    if vals is None:
        return None
    hold = max(_minutes(lv.for_seconds + lv.delay) for lv in levels)
    n = 5 + hold + 10
    scenarios: dict[str, Runs] = {
        "ok": [(vals["ok"], n)],
        "crit": [(vals["ok"], 5), (vals["crit"], n - 5)],
    }
    if "warn" in vals:
        scenarios["warn"] = [(vals["ok"], 5), (vals["warn"], n - 5)]
    # the value stops while the alert fires: resolves at once, or keeps its last status
    scenarios["stop"] = [(vals["ok"], 5), (vals["crit"], n - 11), (None, 6)]
    if "between" in vals:
        scenarios["recovery"] = [(vals["ok"], 3), (vals["crit"], hold + 3), (vals["between"], 4), (vals["ok"], 5)]
    # one case per scenario; a multi-alert monitor runs them side by side as groups
    batches = [list(scenarios)] if grouped else [[name] for name in scenarios]
    checks = sorted({2, 5 + hold + 5, n - 6, n - 1})
    cases = []
    for c, batch in enumerate(batches):
        firing = {(name, i): _firing(lv, comparator, scenarios[name], checks)
                  for name in batch for i, lv in enumerate(levels)}
        timeline = []
        for j, at in enumerate(checks):
            fired = [(name, i, _last(scenarios[name], at))
                     for name in batch for i in range(len(levels)) if firing[name, i][at]]
            timeline.append((f"{at}m", f"exp {c} {j}" if fired else None, fired))
        label = "+".join(batch)
        cases.append((batch, f"name {label}", label, timeline))
    return _Plan(scenarios, [(vals["ok"], NODATA_STOP)], cases,
                 [(slot, fired) for *_, timeline in cases for _, slot, fired in timeline if slot])


def tests_for(mr: MonitorRules) -> list[dict[str, Any]]:
    """The monitor's promtool test cases."""
    plan = _plan_of(mr)
    return [] if plan is None else _cases(plan, _nodata(mr) is not None, _slot_values(mr, plan).__getitem__)


def tests_text(mr: MonitorRules) -> tuple[str, int]:
    """The monitor's promtool test cases as items of a test file's ``tests``
    (``dump_yaml_items(tests_for(mr), 1)``), and how many. Monitors with the
    same plan have tests of the same structure: its YAML is made once (a
    template, see ``fastyaml.template``) and filled with each monitor's values."""
    plan = _plan_of(mr)
    if plan is None:
        return "", 0
    has_nodata = _nodata(mr) is not None
    key = (id(plan), has_nodata)
    hit = _TEMPLATES.get(key)
    if hit is None or hit[0] is not plan:
        hit = _template(key, plan, has_nodata)
    values = _slot_values(mr, plan)
    text = fastyaml.fill(hit[1], values) if hit[1] is not None else None
    n = len(plan.cases) + has_nodata
    if text is None:   # a value the fast writer leaves to PyYAML
        text = dump_yaml_items(_cases(plan, has_nodata, values.__getitem__), 1)
    return text, n


# (plan id, has a no-data test) → (the plan, its tests' template); the plan is held, so its id stays its
_TEMPLATES: dict[tuple[int, bool], tuple[_Plan, fastyaml.Template | None]] = {}
_TEMPLATES_CHARS = 16 << 20     # characters held at most (a week-long test's series are ~100 kB each)
_templates_size = 0


def _template(key: tuple[int, bool], plan: _Plan, has_nodata: bool) -> tuple[_Plan, fastyaml.Template | None]:
    global _templates_size
    pieces = fastyaml.template(_cases(plan, has_nodata, fastyaml.Slot), 0)
    size = sum(len(p) for p in pieces if type(p) is str) if pieces else 0
    if _templates_size + size > _TEMPLATES_CHARS:
        _TEMPLATES.clear()
        _templates_size = 0
    _TEMPLATES[key] = (plan, pieces)
    _templates_size += size
    return plan, pieces


def _plan_of(mr: MonitorRules) -> _Plan | None:
    if not mr.testable:
        return None
    return _plan(mr.comparator, tuple(Shape.of(lv) for lv in mr.levels if lv.state in ("alert", "warn")),
                 bool(mr.group))


def _nodata(mr: MonitorRules) -> Level | None:
    return next((lv for lv in mr.levels if lv.state == "no_data"), None)


def _cases(plan: _Plan, has_nodata: bool, value: Callable[[str], Any]) -> list[dict[str, Any]]:
    """The test cases of a monitor with ``plan`` (and a no-data rule): what
    differs between such monitors is asked of ``value(slot name)`` (see
    :func:`_slot_values`; a ``fastyaml.Slot`` for a template)."""
    tests = []
    for batch, title, _, timeline in plan.cases:
        tests.append(_case(value(title), [(value(f"series {name}"), plan.scenarios[name]) for name in batch], [
            _check(eval_time, value("alertname"), value(slot) if slot else []) for eval_time, slot, _ in timeline]))
    if has_nodata:
        tests.append(_case(value("nodata name"), [(value("nodata series"), plan.nodata)], [
            _check("5m", value("nodata alertname"), []),
            _check(value("nodata at"), value("nodata alertname"), value("nodata exp"))]))
    return tests


def _check(eval_time: Any, alertname: Any, expected: Any) -> dict[str, Any]:
    return {"eval_time": eval_time, "alertname": alertname, "exp_alerts": expected}


def _slot_values(mr: MonitorRules, plan: _Plan) -> dict[str, Any]:
    """The values :func:`_cases` asks for: the monitor's names, series and expected alerts."""
    threshold_levels = [lv for lv in mr.levels if lv.state in ("alert", "warn")]
    values: dict[str, Any] = {"alertname": mr.alert_name}
    title = f"{mr.alert_name} ({mr.spec.ref}): "
    # each scenario's series labels (one for all when the monitor has no groups)
    series: dict[str, dict[str, str]] = {}
    for name in plan.scenarios:
        if mr.group or not series:
            labels = {MONITOR_LABEL: mr.spec.ref, **{g: name for g in mr.group}}
            text = _series(labels)
        series[name] = labels
        values[f"series {name}"] = text
    # the same alert (labels, level, value) at several times and in several
    # scenarios: one object, which the YAML writer copies as text
    # (the labels: a multi-alert monitor's series are named after their scenario;
    # the value only when an annotation shows it: the expected alert holds no value)
    expected: dict[tuple[str | None, int, float | None], dict[str, Any]] = {}
    rule_labels = [_rule_labels(lv) for lv in threshold_levels]
    # (the template of an annotation that shows the value holds msg.GO_VALUE; an
    # is_match value spelling it too only makes the alerts less shared)
    shows_value = [msg.GO_VALUE in "\0".join(lv.rule.annotations.values()) for lv in threshold_levels]
    grouped = bool(mr.group)
    for _, slot, label, _ in plan.cases:
        values[slot] = title + label
    for slot, fired in plan.firing:
        alerts = values[slot] = []
        for name, i, value in fired:
            key = (name if grouped else None, i, value if shows_value[i] else None)
            alert = expected.get(key)
            if alert is None:
                alert = expected[key] = _expected(threshold_levels[i], rule_labels[i], series[name], value)
            alerts.append(alert)
    nodata = _nodata(mr)
    if nodata is not None:
        labels = {MONITOR_LABEL: mr.spec.ref, **{g: "nodata" for g in mr.group}}
        values.update({
            "nodata name": title + "nodata", "nodata series": _series(labels), "nodata alertname": nodata.rule.name,
            "nodata at": f"{NODATA_STOP + LOOKBACK_MIN + _minutes(nodata.rule.for_seconds) + 2}m",
            "nodata exp": [_expected(nodata, _rule_labels(nodata), labels, 1.0)]})
    return values


# a plan's runs (the same list objects for every monitor with that plan, see _plan)
# → (them, their series notation); the runs are held here, so their id stays theirs
_TEXTS: dict[int, tuple[Runs, str]] = {}
_TEXTS_MAX = 8 << 20            # characters held at most (a week-long test's series is ~100 kB)
_texts_size = 0


def _values_text_of(runs: Runs) -> str:
    """:func:`_values_text`, remembered: monitors with the same plan share its
    scenarios' series, and the same text object is then also the same YAML
    text to the writer (see ``fastyaml``), not written again character by character."""
    global _texts_size
    hit = _TEXTS.get(id(runs))
    if hit is not None and hit[0] is runs:
        return hit[1]
    text = _values_text(runs)
    if _texts_size + len(text) > _TEXTS_MAX:
        _TEXTS.clear()
        _texts_size = 0
    _TEXTS[id(runs)] = (runs, text)
    _texts_size += len(text)
    return text


def _values_text(runs: Runs) -> str:
    """promtool's series notation; a value that stops is a staleness marker, as a
    recording rule writes when its expression returns nothing."""
    words = []   # a run's words each (a run of a week-long test: ten thousand)
    after_value = False
    for value, count in runs:
        if not count:
            continue
        if value is None:
            words.append(("stale" if after_value else "_") + " _" * (count - 1))
        else:
            word = number(value)
            words.append((word + " ") * (count - 1) + word)
        after_value = value is not None
    return " ".join(words)


def _series(labels: dict[str, str]) -> str:
    body = ", ".join(f'{k}="{quote(v)}"' for k, v in labels.items())
    return f"{VALUE_METRIC}{{{body}}}"


def _case(name: Any, series: list[tuple[Any, Runs]], alert_tests: list[dict[str, Any]]) -> dict[str, Any]:
    """``series``: each input series (its text) and its values."""
    return {
        "name": name,
        "interval": _INTERVAL,
        "input_series": [{"series": text, "values": _values_text_of(values)} for text, values in series],
        "alert_rule_test": alert_tests,
    }
