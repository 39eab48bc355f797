"""From a family's :class:`Alerting` to the monitor's rules, labels,
annotations, inhibit rule and route: one place for what every family shares."""

from __future__ import annotations

import functools
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
    firing_alert,
    no_data_expr,
    number,
    on_clause,
    selector,
    threshold_expr,
)
from dd2prom.convert.monitors.spec import (
    LABEL_RE,
    MonitorSpec,
    keeps_last_status,
    label_name,
    no_data_timeframe_seconds,
    renotify_states,
)
from dd2prom.emit.alertmanager import AlertmanagerConfig
from dd2prom.model import CoverageItem, Status
from dd2prom.validate.promql import promql_error

RENOTIFY_BLOCK = {"is_renotify"}
RESERVED = {"alertname", "alertstate", "severity", "priority", MONITOR_LABEL, STATE_LABEL, "le", "quantile"}


@dataclass
class Level:
    """One alerting rule of the monitor and what the tests need to know about it."""

    state: str                  # alert | warn | no_data
    threshold: float | None
    recovery: float | None
    rule: Rule
    annotation_parts: dict[str, list[msg.Part]] = field(default_factory=dict)
    delay: int = 0              # seconds a new group is not evaluated (new_group_delay)
    keep: int = 0               # seconds a firing group without data keeps firing (last status)


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


_WORD = re.compile(r"[A-Za-z0-9]+")
_VARIABLE = re.compile(r"\{\{[^}]*\}\}")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def alert_name(spec: MonitorSpec, taken: set[str]) -> str:
    name = _camel_words(spec.name) or f"DatadogMonitor{spec.ref}"
    if not name[0].isalpha():
        name = "Monitor" + name
    if name in taken:
        name = name + _NOT_ALNUM.sub("", spec.ref)
    taken.add(name)
    return name


@functools.lru_cache(maxsize=4096)
def _camel_words(name: str) -> str:
    """The words of a monitor's name, capitalised and joined (at most 80
    characters). Worked out once per name: an organisation's monitors repeat a
    few names (20,000 monitors, 124 names)."""
    words = _WORD.findall(_VARIABLE.sub(" ", name) if "{{" in name else name)
    return "".join([w[0].upper() + w[1:] for w in words])[:80]


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
    if cond.fraction_window and not cond.recovery_window and (th.critical_recovery is not None
                                                              or th.warning_recovery is not None):
        item.note("Recovery thresholds of anomaly monitors are not applied: the alert resolves when the "
                  "condition stops holding.", Status.APPROXIMATE)
    if cond.recovery_window and any(r for r in (th.critical_recovery, th.warning_recovery)):
        item.note(f"The recovery window needs no anomalous point (Datadog allows the recovery thresholds' "
                  f"fraction {th.critical_recovery or th.warning_recovery:g}).", Status.APPROXIMATE)

    name = name or alert_name(spec, taken)
    group = list(cond.group)
    value = selector(spec.ref)
    notes: list[str] = []
    metric = cond.metrics[0] if cond.metrics else None
    label_names: dict[str, str] = {}   # (tags are named again and again: in the query, message, tags)

    def labeler(tag: str) -> str:
        label = label_names.get(tag)
        if label is None:
            label = label_names[tag] = label_name(tag, mappings, metric)
        return label

    group_tags = {t: labeler(t) for t in spec.datadog_group_tags}

    def group_label(tag: str) -> str | None:
        if tag in group_tags:
            return group_tags[tag]
        label = labeler(tag)
        return label if label in group else None

    variables = msg.Variables(
        labels=group_label,
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
    esc: list[msg.Part] = []
    if spec.options.get("escalation_message"):
        esc = msg.parse(str(spec.options["escalation_message"]), variables, [])
        static["escalation_message"] = msg.tidy(msg.resolve(esc, "alert", spec.priority))
    for block in msg.find_blocks(body, msg.TRANSITION_BLOCKS):
        handles = sorted({"@" + h for h, _ in msg.mentions(block.children)})
        item.note(f"{{{{#{block.name}}}}} is left out: Alertmanager notifies states, not transitions"
                  + (f"; {', '.join(handles)} mentioned there is not routed." if handles else "."),
                  Status.APPROXIMATE if handles else None)
    texts = msg.StateTexts(body, spec.priority)
    recovery = texts.get("recovery")[0]   # any recovery: who hears of one
    has_recovery = msg.has_blocks(body, msg.RECOVERY_BLOCKS)

    labels = tag_labels(spec, group, item, labeler)
    if spec.priority:
        labels["priority"] = f"P{spec.priority}"

    levels: list[Level] = []
    mentions: dict[str, list] = {}
    static = {k: v for k, v in static.items() if v}
    static_go = {k: msg.to_go(v) for k, v in static.items()}   # the same on every rule
    # a title without blocks (most are) reads the same in every state
    summary = None if msg.has_blocks(title) else msg.tidy(title)

    def level(state: str, threshold: float | None, recovery: float | None, expr: str, for_seconds: int,
              keep: tuple[str, int] | None = None) -> None:
        rule_name = name + ("NoData" if state == "no_data" else "")
        resolved, block_notes, description, description_go = texts.get(state)
        for n in block_notes:
            item.note(n)
        mentions[state] = msg.mentions(resolved)
        title_parts = summary if summary is not None else msg.tidy(msg.resolve(title, state, spec.priority))
        parts = {"summary": title_parts or [msg.Text(spec.name or name)], "description": description}
        templates = {"description": description_go}   # (made with the parts)
        if has_recovery:   # resolved notifications carry the alert's annotations: Datadog's text for
            # the recovery of this state ({{#is_alert_recovery}} on the critical rule…) kept apart
            _, _, parts["recovery_message"], templates["recovery_message"] = texts.get(f"{state}_recovery")
        parts = {k: v for k, v in parts.items() if v}
        annotations = {k: templates[k] if k in templates else msg.to_go(v) for k, v in parts.items()} | static_go
        parts |= static
        rule_labels = {"severity": SEVERITY[state], STATE_LABEL: state} | labels
        levels.append(Level(state, threshold, recovery,
                            Rule(rule_name, expr, state, for_seconds, rule_labels, annotations), parts,
                            0 if state == "no_data" else delay, keep[1] if keep else 0))

    delay = new_group_delay(spec, group, item)
    if spec.options.get("require_full_window") is True and cond.window_seconds and not cond.fraction_window:
        delay = max(delay, cond.window_seconds)
        item.note(f"require_full_window: a group is evaluated once its value existed {duration(cond.window_seconds)} "
                  "ago (a full window since it appeared); gaps inside the window are not detected.")
    if delay:   # a group alerts only once it reported `delay` ago (its value existed then)
        value = f"({value} and {on_clause(group)} {value} offset {duration(delay)})"
    if cond.fraction_window:
        for state, fraction in (("alert", critical), ("warn", warning)):
            if fraction is not None:
                level(state, cond.bound, None, anomaly_expr(value, cond, name, SEVERITY[state], group),
                      round(max(fraction, 0) * cond.fraction_window))
        if cond.recovery_window:
            item.note(f"recovery_window {duration(cond.recovery_window)}: a firing alert resolves only after "
                      f"{duration(cond.recovery_window)} without an anomalous point.")
    else:
        keep = _keep_last_status(spec, cond, item)
        level("alert", critical, crit_rec,
              threshold_expr(value, cond.comparator, critical, crit_rec, name, "critical", group, keep),
              cond.for_seconds, keep)
        if warning is not None:
            level("warn", warning, warn_rec,
                  threshold_expr(value, cond.comparator, warning, warn_rec, name, "warning", group, keep),
                  cond.for_seconds, keep)
    timeframe = no_data_timeframe_seconds(spec, cond.window_seconds, cond.no_data_default) if cond.no_data else None
    if timeframe:
        timeout = spec.window_minutes_option("timeout_h")
        # the lookback must outlast the timeframe, or the rule could never fire
        lookback = max(int(timeout * 3600) if timeout else NO_DATA_LOOKBACK, 2 * timeframe + 600)
        level("no_data", None, None, no_data_expr(selector(spec.ref), group, lookback),
              max(timeframe - cond.window_seconds, 0))
        item.note(f"No data: {name}NoData fires per group silent for {duration(timeframe)} "
                  f"(groups seen in the last {duration(lookback)}; timeout_h resolves it then).")
    elif spec.options.get("notify_no_data") or spec.options.get("on_missing_data") == "show_and_notify_no_data":
        item.note("notify_no_data is not converted for this monitor type.", Status.APPROXIMATE)

    records = [Rule(VALUE_METRIC, cond.expr, labels={MONITOR_LABEL: spec.ref})]
    if cond.input_expr:
        records.insert(0, Rule(INPUT_METRIC, cond.input_expr, labels={MONITOR_LABEL: spec.ref}))
    swaps = _placeholders(spec.ref, name)
    checks = [(r, promql_error(r.expr)) for r in records] + [(lv.rule, _rule_error(lv.rule.expr, swaps)) for lv in levels]
    for rule, err in checks:   # before anything reaches the Alertmanager config
        if err:
            raise ValueError(f"generated rule {rule.name} is not valid PromQL: {err}")
    if warning is not None:
        am.add_inhibit_rule({MONITOR_LABEL: spec.ref, STATE_LABEL: "alert"},
                            {MONITOR_LABEL: spec.ref, STATE_LABEL: "warn"}, equal=group)
    renotified = renotify_states(spec) if spec.window_minutes_option("renotify_interval") else set()
    _add_renotify_mentions(spec, body, esc, mentions, renotified, item)
    routed = {h for found in mentions.values() for h, _ in found}
    recovered = {h for h, _ in msg.mentions(recovery)}
    for handle in sorted(recovered - routed):
        item.note(f"@{handle} is mentioned only for recoveries; Alertmanager cannot notify a receiver "
                  "on resolution only, so it is not routed.", Status.APPROXIMATE)
    notify_by = spec.options.get("notify_by")
    route_group = group if not isinstance(notify_by, list) else [labeler(t) for t in notify_by if t != "*"]
    for note, status in add_monitor_route(am, {MONITOR_LABEL: spec.ref}, f"{spec.ref} {spec.name}", mentions,
                                          [lv.state for lv in levels], route_group,
                                          spec.window_minutes_option("renotify_interval"),
                                          recovered, renotified):
        item.note(note, status)
    return MonitorRules(spec, name, group, cond.comparator, records, levels, static, cond.testable, cond.status)


# The alerting rules' expressions of monitors alike (same comparator, thresholds,
# windows, groups) differ only in the monitor's id and alert name, as quoted
# values of the label matchers ``dd_monitor_id="…"`` and ``alertname="…"``; a
# value without quote, backslash or line break cannot change whether an
# expression parses. Expressions known to parse, those two values replaced by
# placeholders, are remembered: checking the next such monitor's rules is a
# lookup (the PromQL check by shape scans every string of the text).
_PARSES: set[str] = set()
_PARSES_MAX = 100_000
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:-]+")


def _placeholders(ref: str, name: str) -> tuple[tuple[str, str], ...]:
    """The matchers of a monitor's alerting rules that :func:`_rule_error` replaces."""
    return tuple((f'{label}="{value}"', f'{label}="_"') for label, value in ((MONITOR_LABEL, ref), ("alertname", name))
                 if _PLAIN_VALUE.fullmatch(value))


def _rule_error(expr: str, swaps: tuple[tuple[str, str], ...]) -> str | None:
    """``promql_error(expr)``, remembered for the expression's text with ``swaps`` made
    (see :data:`_PARSES`; an error is always the parser's message about ``expr``)."""
    key = expr
    for text, placeholder in swaps:
        key = key.replace(text, placeholder)
    if key in _PARSES:
        return None
    err = promql_error(expr)
    if err is None:
        if len(_PARSES) >= _PARSES_MAX:
            _PARSES.clear()
        _PARSES.add(key)
    return err


def _add_renotify_mentions(spec: MonitorSpec, body: list[msg.Part], esc: list[msg.Part],
                           mentions: dict[str, list], renotified: set[str], item: CoverageItem) -> None:
    """Handles Datadog notifies only on re-notifications (``{{#is_renotify}}``
    blocks, ``escalation_message``): Alertmanager cannot tell a repeat from the
    first notification, so they are routed from the first one on (noted)."""
    if not esc and not msg.has_blocks(body, RENOTIFY_BLOCK):
        return   # a re-notification says what the first notification said: no handle to add
    late: dict[str, bool] = {}      # handle → routed for some state
    for state, found in mentions.items():
        text = msg.resolve(body, state, spec.priority, renotify=True) + msg.resolve(esc, state, spec.priority)
        for entry in msg.mentions(text):
            if entry in found:
                continue
            if state in renotified:
                found.append(entry)
            late[entry[0]] = late.get(entry[0], False) or state in renotified
    for handle, routed in sorted(late.items()):
        if routed:
            item.note(f"@{handle} is mentioned for re-notifications only (escalation_message or "
                      "{{#is_renotify}}); Alertmanager cannot tell a repeat from the first notification, "
                      "so it is notified from the first one on.", Status.APPROXIMATE)
        else:
            item.note(f"@{handle} is mentioned for re-notifications only, and the monitor never "
                      "re-notifies its states (renotify_interval, renotify_statuses): not routed, as in Datadog.")


def new_group_delay(spec: MonitorSpec, group: list[str], item: CoverageItem) -> int:
    """Seconds a new group of a multi-alert monitor is not evaluated:
    ``new_group_delay``, or the older ``new_host_delay`` when the monitor groups
    by host. A simple alert has no groups to delay."""
    delays = {opt: int(v) for opt in ("new_group_delay", "new_host_delay")
              if (v := spec.window_minutes_option(opt)) and v > 0}
    if not delays:
        return 0
    if not group:
        item.note(", ".join(delays) + " only delays new groups; this monitor has none.")
        return 0
    if "new_group_delay" in delays:
        return delays["new_group_delay"]
    if "host" not in spec.datadog_group_tags:
        item.note("new_host_delay only delays new hosts; this monitor does not group by host.")
        return 0
    return delays["new_host_delay"]


def _keep_last_status(spec: MonitorSpec, cond: Alerting, item: CoverageItem) -> tuple[str, int] | None:
    """Datadog keeps a group's last status while its data is missing (legacy
    monitors without no-data notification, ``on_missing_data: default``), until
    ``timeout_h`` resolves it; a Prometheus alert would resolve (and notify a
    recovery) the moment its series stop. Returns (value selector, seconds)."""
    if not cond.no_data or cond.fraction_window or not keeps_last_status(spec):
        return None
    timeout = spec.window_minutes_option("timeout_h")
    seconds = int(timeout * 3600) if timeout and timeout > 0 else NO_DATA_LOOKBACK
    item.note(f"Missing data keeps the last status, as in Datadog: a firing group whose value stops keeps "
              f"firing with its last value for {duration(seconds)}"
              + (" (timeout_h)." if timeout and timeout > 0 else
                 " (Datadog: until data returns; no timeout_h is set)."))
    return selector(spec.ref), seconds


def anomaly_expr(value: str, cond: Alerting, alert_name: str, severity: str, group: list[str]) -> str:
    """``value > bound``; with a recovery window, a firing alert keeps firing
    while any point of the window was anomalous (Datadog's recovery_window)."""
    expr = f"{value} {cond.comparator} {number(cond.bound)}"
    if not cond.recovery_window:
        return expr
    firing = firing_alert(alert_name, severity)
    return (f"({expr}) or ({value} and {on_clause(group)} count_over_time(({expr})[{duration(cond.recovery_window)}:1m]) "
            f"and {on_clause(group)} {firing})")
