"""From a family's :class:`Alerting` to the monitor's rules, labels,
annotations, inhibit rule and route: one place for what every family shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dd2prom.convert.monitors import message as msg
from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.convert.monitors.routing import add_monitor_route
from dd2prom.convert.monitors.rules import (
    INPUT_METRIC,
    MONITOR_LABEL,
    NO_DATA_LOOKBACK,
    SEVERITY,
    STATE_LABEL,
    VALUE_METRIC,
    Rule,
    duration,
    no_data_expr,
    number,
    selector,
    threshold_expr,
)
from dd2prom.convert.monitors.spec import (
    LABEL_RE,
    MonitorSpec,
    label_name,
    no_data_timeframe_seconds,
)
from dd2prom.emit.alertmanager import AlertmanagerConfig
from dd2prom.model import CoverageItem, Status
from dd2prom.validate.promql import promql_error

RESERVED = {"alertname", "alertstate", "severity", "priority", MONITOR_LABEL, STATE_LABEL, "le", "quantile"}


@dataclass
class Level:
    """One alerting rule of the monitor and what the tests need to know about it."""

    state: str                  # alert | warn | no_data
    threshold: float | None
    recovery: float | None
    rule: Rule
    annotation_parts: dict[str, list[msg.Part]] = field(default_factory=dict)


@dataclass
class MonitorRules:
    spec: MonitorSpec
    alert_name: str
    group: list[str]
    comparator: str
    records: list[Rule]
    levels: list[Level]
    static_parts: dict[str, list[msg.Part]]
    testable: bool
    status: Status = Status.EXACT          # how faithful the condition is (routing aside)

    @property
    def rules(self) -> list[Rule]:
        return self.records + [lv.rule for lv in self.levels]


def alert_name(spec: MonitorSpec, taken: set[str]) -> str:
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"\{\{[^}]*\}\}", " ", spec.name))
    name = "".join(w[:1].upper() + w[1:] for w in words)[:80] or f"DatadogMonitor{spec.ref}"
    if not name[0].isalpha():
        name = "Monitor" + name
    if name in taken:
        name = f"{name}{re.sub(r'[^A-Za-z0-9]', '', spec.ref)}"
    taken.add(name)
    return name


def tag_labels(spec: MonitorSpec, group: list[str], item: CoverageItem, labeler) -> dict[str, str]:
    """Monitor tags as rule labels (``team:payments`` → ``team="payments"``)."""
    values: dict[str, list[str]] = {}
    for tag in spec.tags:
        if ":" not in tag:
            continue
        key, value = tag.split(":", 1)
        name = labeler(key)
        if name in RESERVED or name.startswith("__") or name in group or not LABEL_RE.match(name):
            item.note(f"Tag {tag!r} is not a rule label: {name} is a group or reserved label.")
            continue
        values.setdefault(name, [])
        if value not in values[name]:
            values[name].append(value)
    return {k: msg.go_escape(",".join(sorted(v))) for k, v in sorted(values.items())}


def build(spec: MonitorSpec, cond: Alerting, item: CoverageItem, am: AlertmanagerConfig,
          taken: set[str], mappings=None, name: str | None = None) -> MonitorRules:
    """``name``: the alert name when the caller assigned it already (else a
    unique one is picked against ``taken``)."""
    th = spec.thresholds
    fixed = cond.critical is not None
    critical = cond.critical if fixed else th.critical if th.critical is not None else cond.query_threshold
    if critical is None:
        raise NotConverted(Status.ERROR, "The monitor has no critical threshold.")
    if not fixed and cond.query_threshold is not None and th.critical is not None and cond.query_threshold != th.critical \
            and not cond.fraction_window:
        item.note(f"The query threshold {cond.query_threshold:g} differs from options.thresholds.critical "
                  f"{th.critical:g}; the options' value is used (Datadog evaluates that one).")
    warning = cond.warning if fixed else th.warning
    crit_rec = None if fixed or cond.fraction_window else th.critical_recovery
    warn_rec = None if fixed or cond.fraction_window else th.warning_recovery
    if cond.fraction_window and (th.critical_recovery is not None or th.warning_recovery is not None):
        item.note("Recovery thresholds of anomaly monitors are not applied: the alert resolves when the "
                  "condition stops holding.", Status.APPROXIMATE)

    name = name or alert_name(spec, taken)
    group = list(cond.group)
    value = selector(spec.ref)
    notes: list[str] = []
    def labeler(tag: str) -> str:
        return label_name(tag, mappings, cond.metrics[0] if cond.metrics else None)

    group_tags = {t: labeler(t) for t in spec.datadog_group_tags}
    variables = msg.Variables(
        labels=lambda tag: group_tags.get(tag) or (labeler(tag) if labeler(tag) in group else None),
        any_label=labeler,
        literals={k: number(v) for k, v in (("threshold", critical), ("warn_threshold", warning),
                                             ("critical_recovery", crit_rec), ("warning_recovery", warn_rec))
                  if v is not None} | {"comparator": cond.comparator})
    body = msg.parse(spec.message, variables, notes)
    title = msg.parse(spec.name, variables, notes)
    for n in notes:
        item.note(n)
    static: dict[str, list[msg.Part]] = {"dd_query": [msg.Text(spec.query)]} if spec.query else {}
    runbook = msg.first_link(spec.message)
    if runbook:
        static["runbook_url"] = [msg.Text(runbook)]
    if spec.options.get("escalation_message"):
        esc = msg.parse(str(spec.options["escalation_message"]), variables, [])
        static["escalation_message"] = msg.tidy(msg.resolve(esc, "alert", spec.priority))
    recovery = msg.resolve(body, "recovery", spec.priority)
    if msg.has_blocks(body, msg.RECOVERY_BLOCKS):
        # resolved notifications carry the same annotations: keep Datadog's recovery text apart
        static["recovery_message"] = msg.tidy(recovery)

    labels = tag_labels(spec, group, item, labeler)
    if spec.priority:
        labels["priority"] = f"P{spec.priority}"

    levels: list[Level] = []
    mentions: dict[str, list] = {}

    def level(state: str, threshold: float | None, recovery: float | None, expr: str, for_seconds: int) -> None:
        rule_name = name + ("NoData" if state == "no_data" else "")
        block_notes: list[str] = []
        resolved = msg.resolve(body, state, spec.priority, block_notes)
        for n in block_notes:
            item.note(n)
        mentions[state] = msg.mentions(resolved)
        parts = {"summary": msg.tidy(msg.resolve(title, state, spec.priority)) or [msg.Text(spec.name or name)],
                 "description": msg.tidy(resolved)}
        parts = {k: v for k, v in (parts | static).items() if v}
        annotations = {k: msg.to_go(v) for k, v in parts.items()}
        rule_labels = {"severity": SEVERITY[state], STATE_LABEL: state} | labels
        levels.append(Level(state, threshold, recovery,
                            Rule(rule_name, expr, state, for_seconds, rule_labels, annotations), parts))

    if cond.fraction_window:
        for state, fraction in (("alert", critical), ("warn", warning)):
            if fraction is not None:
                level(state, cond.bound, None, f"{value} {cond.comparator} {number(cond.bound)}",
                      round(max(fraction, 0) * cond.fraction_window))
    else:
        level("alert", critical, crit_rec,
              threshold_expr(value, cond.comparator, critical, crit_rec, name, "critical", group), cond.for_seconds)
        if warning is not None:
            level("warn", warning, warn_rec,
                  threshold_expr(value, cond.comparator, warning, warn_rec, name, "warning", group), cond.for_seconds)
    timeframe = no_data_timeframe_seconds(spec, cond.window_seconds) if cond.no_data else None
    if timeframe:
        timeout = spec.window_minutes_option("timeout_h")
        # the lookback must outlast the timeframe, or the rule could never fire
        lookback = max(int(timeout * 3600) if timeout else NO_DATA_LOOKBACK, 2 * timeframe + 600)
        level("no_data", None, None, no_data_expr(value, group, lookback),
              max(timeframe - cond.window_seconds, 0))
        item.note(f"No data: {name}NoData fires per group silent for {duration(timeframe)} "
                  f"(groups seen in the last {duration(lookback)}).")
    elif spec.options.get("notify_no_data") or spec.options.get("on_missing_data") == "show_and_notify_no_data":
        item.note("notify_no_data is not converted for this monitor type.", Status.APPROXIMATE)

    records = [Rule(VALUE_METRIC, cond.expr, labels={MONITOR_LABEL: spec.ref})]
    if cond.input_expr:
        records.insert(0, Rule(INPUT_METRIC, cond.input_expr, labels={MONITOR_LABEL: spec.ref}))
    for rule in records + [lv.rule for lv in levels]:   # before anything reaches the Alertmanager config
        err = promql_error(rule.expr)
        if err:
            raise ValueError(f"generated rule {rule.name} is not valid PromQL: {err}")
    if warning is not None:
        am.add_inhibit_rule({MONITOR_LABEL: spec.ref, STATE_LABEL: "alert"},
                            {MONITOR_LABEL: spec.ref, STATE_LABEL: "warn"}, equal=group)
    routed = {h for found in mentions.values() for h, _ in found}
    for handle in sorted({h for h, _ in msg.mentions(recovery)} - routed):
        item.note(f"@{handle} is mentioned only for recoveries; Alertmanager cannot notify a receiver "
                  "on resolution only, so it is not routed.", Status.APPROXIMATE)
    notify_by = spec.options.get("notify_by")
    route_group = group if not isinstance(notify_by, list) else [labeler(t) for t in notify_by if t != "*"]
    for note, status in add_monitor_route(am, {MONITOR_LABEL: spec.ref}, f"{spec.ref} {spec.name}", mentions,
                                          [lv.state for lv in levels], route_group,
                                          spec.window_minutes_option("renotify_interval")):
        item.note(note, status)
    return MonitorRules(spec, name, group, cond.comparator, records, levels, static, cond.testable, cond.status)
