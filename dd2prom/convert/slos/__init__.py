"""Stage: SLOs → recording rules, multi-window burn-rate alerts, an SLO dashboard.

Per SLO (``slo-<name>``):

* ``prometheus/rules/slo-<name>.yaml``: a PrometheusRule whose group holds, in
  order, what the SLI reads (event counts, or a 1/0 "bad" indicator), the
  error ratio over each window, objective and remaining budget, and the
  page/ticket burn-rate alerts plus the SLO alert monitors (a time-slice
  SLI is a group of its own, evaluated once per slice);
* ``prometheus/rule-files/slo-<name>.rules.yaml``: the same groups as a plain rule file;
* ``prometheus/tests/slo-<name>.test.yaml``: promtool tests of every alert.

Also ``grafana/dashboards/slos.json`` (+ ConfigMap) and the final status of
every ``slo alert`` monitor (the monitors stage runs first and cannot see SLOs).
"""

from __future__ import annotations

from typing import Any, Callable

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.dashboards import sidecar
from dd2prom.convert.downtimes.matchers import MONITOR_LABEL, STATE_LABEL, tag_labels
from dd2prom.convert.monitors.slo import PENDING as PENDING_ROUTES
from dd2prom.convert.monitors.spec import SLO_ALERT_MONITORS
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.convert.slos import burn_rate, dashboard, metric, monitor_based, promtool_tests, slo_alerts, time_slice
from dd2prom.convert.slos.spec import SHORT_WINDOWS, Sli, SliError, SloSpec, parse_spec
from dd2prom.emit import k8s
from dd2prom.emit.alertmanager import alertmanager_config
from dd2prom.emit.yamlio import SLOT, dump_yaml, nest_yaml, split_at_slot
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import Snapshot, dumpb
from dd2prom.validate.promql import promql_error

KIND = "slo"
BUILDERS: dict[str, Callable[..., Sli]] = {
    "metric": metric.build,
    "monitor": monitor_based.build,
    "time_slice": time_slice.build,
}


def _slo_alert_monitors(snapshot: Snapshot, ctx: ConvertContext) -> dict[str, list[slo_alerts.SloAlertMonitor]]:
    """SLO id → its ``slo alert`` monitors (unparseable ones are noted on their ledger item)."""
    out: dict[str, list[slo_alerts.SloAlertMonitor]] = {}
    found = ctx.shared.get(SLO_ALERT_MONITORS)   # read by the monitors stage, when it ran
    if found is None:
        found = [(obj.id, obj.data) for obj in snapshot.iter("monitors")
                 if isinstance(obj.data, dict) and obj.data.get("type") == "slo alert"]
    for key, data in found:
        try:
            mon = slo_alerts.parse(key, data)
        except ValueError as exc:
            item = ctx.ledger.add("monitor", key, str(data.get("name") or ""), "slo alert")
            item.note(str(exc), Status.UNSUPPORTED)
            continue
        out.setdefault(mon.slo_id, []).append(mon)
    return out


def _groups(name: str, rules: burn_rate.SloRules) -> list[dict[str, Any]]:
    """One group, evaluated in order (each rule sees the results of those
    before it in the same evaluation); a time-slice SLI gets its own group
    evaluated once per slice."""
    windows = burn_rate.window_rules(rules.spec, rules.sli)
    alerts = [burn_rate.alert_rule(rules.spec, a) for a in rules.alerts]
    if rules.sli.base_interval:
        return [{"name": f"{name}-sli", "interval": rules.sli.base_interval, "rules": rules.sli.base_rules},
                {"name": name, "rules": windows + alerts}]
    return [{"name": name, "rules": rules.sli.base_rules + windows + alerts}]


def _check(groups: list[dict[str, Any]]) -> None:
    for group in groups:
        for rule in group["rules"]:
            err = promql_error(rule["expr"])
            if err:
                raise ValueError(f"generated PromQL does not parse ({err}): {rule['expr']}")


def _unique_name(spec: SloSpec, used: set[str]) -> str:
    name = "slo-" + k8s.dns_name(spec.name, max_len=59)
    if name in used:
        name = "slo-" + k8s.dns_name(f"{spec.name}-{spec.id}", max_len=59)
    used.add(name)
    return name


def _set_monitor(ctx: ConvertContext, mon: slo_alerts.SloAlertMonitor, status: Status, notes: list[str],
                 outputs: list[str], alertname: str | None) -> None:
    """Final word on an ``slo alert`` monitor. The monitors stage recorded it
    and left a route callback (``monitor_slo_alerts``) for its @-mentions;
    its finisher adds the entry of ``slo_alerts`` to the item."""
    item = ctx.ledger.get("monitor", mon.monitor_id) or ctx.ledger.add("monitor", mon.monitor_id, mon.name, "slo alert")
    item.status = status
    for n in notes:
        item.note(n)
    item.outputs += [o for o in outputs if o not in item.outputs]
    if not alertname:
        return
    item.extra["alertnames"] = [alertname]
    ctx.shared.setdefault("slo_alerts", {})[mon.slo_id] = {"status": status.value, "outputs": outputs}
    matchers = {MONITOR_LABEL: mon.monitor_id}
    for _, _, pending_item, route in ctx.shared.get(PENDING_ROUTES, []):
        if pending_item is item:
            route(matchers)
    if "warning" in mon.thresholds:
        alertmanager_config(ctx).add_inhibit_rule({**matchers, STATE_LABEL: "alert"}, {**matchers, STATE_LABEL: "warn"})


def _rules(spec: SloSpec, data: dict[str, Any], item: CoverageItem, ctx: ConvertContext,
           monitors: list[slo_alerts.SloAlertMonitor]) -> tuple[burn_rate.SloRules, dict[str, list[str]]] | None:
    """The SLI and every alert of one SLO (None when it cannot be built; the
    item says why), with the sentences about each SLO alert monitor."""
    builder = BUILDERS.get(spec.type)
    if builder is None:
        item.note(f"SLO type {spec.type!r} is not metric, monitor or time_slice.", Status.UNSUPPORTED)
        return None
    if spec.primary is None:
        item.note("The SLO has no 7d, 30d or 90d target.", Status.UNSUPPORTED)
        return None
    windows = list(dict.fromkeys([*SHORT_WINDOWS, *(w for m in monitors for w in m.windows)]))
    try:
        sli = builder(spec, data, ctx, windows)
    except SliError as exc:
        item.note(str(exc), exc.status)
        return None
    item.status = Status.worst(item.status, sli.status)
    for n in sli.notes:
        item.note(n)
    longest = spec.objectives[-1].timeframe
    if longest != "7d":
        item.note(f"The {longest} window needs Prometheus to keep {longest} of samples (retention; "
                  "kube-prometheus-stack keeps 10d by default).")
    if sli.metrics:
        item.extra["metrics"] = sli.metrics
    if sli.translations:
        item.extra["translations"] = sli.translations
    rules = burn_rate.SloRules(spec, sli, burn_rate.default_alerts(spec, tag_labels(spec.tags, slo_alerts.RESERVED)))
    monitor_notes: dict[str, list[str]] = {}
    for mon in monitors:
        alerts, notes = slo_alerts.alerts(mon, spec)
        rules.alerts += alerts
        monitor_notes[mon.monitor_id] = notes
    for n in burn_rate.unreachable(spec, [a for a in rules.alerts if isinstance(a, burn_rate.BurnAlert)]):
        item.note(n)
    return rules, monitor_notes


def _write(name: str, rules: burn_rate.SloRules, item: CoverageItem, ctx: ConvertContext) -> list[str]:
    """PrometheusRule, plain rule file and promtool test of one SLO; returns the paths."""
    spec, opts = rules.spec, ctx.options
    groups = _groups(name, rules)
    _check(groups)
    rule_file = dump_yaml({"groups": groups})
    outputs = [
        ctx.out.write_k8s_text(f"prometheus/rules/{name}.yaml", _prometheus_rule(name, spec, opts, groups, rule_file)),
        ctx.out.write_text(f"prometheus/rule-files/{name}.rules.yaml", rule_file),
    ]
    if spec.type == "monitor" and rules.sli.alerts_labels is None:
        item.note("No promtool test: the SLO's monitor groups use patterns, so no ALERTS series can be made up.")
    else:
        test = promtool_tests.test_file(rules, f"../rule-files/{name}.rules.yaml", rules.sli.alerts_labels)
        outputs.append(ctx.out.write_yaml(f"prometheus/tests/{name}.test.yaml", test))
    return outputs


def _prometheus_rule(name: str, spec: SloSpec, opts, groups: list[dict[str, Any]], rule_file: str) -> str:
    """The PrometheusRule holding ``groups``; ``rule_file``, their rule file's text:
    indented, it is the object's ``spec``, so the groups are not dumped again."""
    def rule(body: Any) -> dict[str, Any]:
        return k8s.monitoring("PrometheusRule", name, body, namespace=opts.namespace,
                              labels={"release": opts.release_label, "dd2prom.io/slo-id": k8s.label_value(spec.id)},
                              annotations={"dd2prom.io/slo-name": spec.name})
    nested = nest_yaml(rule_file, 2)
    if nested is None:
        return dump_yaml(rule({"groups": groups}))
    head, tail = split_at_slot(rule(SLOT))
    return head + nested + tail


def _convert(obj_id: str, data: dict[str, Any], item: CoverageItem, ctx: ConvertContext,
             monitors: list[slo_alerts.SloAlertMonitor], used: set[str]) -> SloSpec | None:
    spec = parse_spec(obj_id, data)
    item.extra["tags"] = spec.tags
    for msg, status in spec.problems:
        item.note(msg, status)
    built = _rules(spec, data, item, ctx, monitors)
    if built is None:
        return None
    rules, monitor_notes = built
    outputs = _write(_unique_name(spec, used), rules, item, ctx)
    item.outputs += outputs
    item.extra["alertnames"] = sorted({a.alertname for a in rules.alerts})
    for mon in monitors:
        alertname = slo_alerts.alert_name(mon.name)
        _set_monitor(ctx, mon, rules.sli.status, [
            f"Converted to alert {alertname} on the recorded error-ratio windows of SLO {spec.name!r} "
            f"({outputs[0]}).", *monitor_notes[mon.monitor_id]], outputs, alertname)
    return spec


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    monitors = _slo_alert_monitors(snapshot, ctx)
    converted: list[SloSpec] = []
    used: set[str] = set()
    for obj in snapshot.iter("slos"):
        if record_unreadable(ctx, KIND, obj):
            continue
        data = obj.data
        item = ctx.ledger.add(KIND, obj.id, name=str(data.get("name") or ""), type=str(data.get("type") or ""))
        spec = None
        with ctx.guard(item):
            spec = _convert(obj.id, data, item, ctx, monitors.get(obj.id, []), used)
        if spec is not None and item.status is not Status.ERROR:
            converted.append(spec)
        else:
            for mon in monitors.get(obj.id, []):
                _set_monitor(ctx, mon, Status.worst(item.status, Status.UNSUPPORTED),
                             [f"Its SLO {obj.id} could not be converted ({item.status.value})."], [], None)
    if converted:
        _write_dashboard(ctx, converted)


def _write_dashboard(ctx: ConvertContext, converted: list[SloSpec]) -> None:
    dash = dashboard.dashboard(converted)
    data = dumpb(dash)   # the file and the ConfigMap's copy, serialised once (UTF-8, written as it is)
    outputs = [ctx.out.write_text(f"grafana/dashboards/{dashboard.UID}.json", data)]
    fits, sentence = sidecar.size_problem(data)
    if fits:
        outputs.append(ctx.out.write_text(f"grafana/configmaps/{dashboard.UID}.yaml", sidecar.configmap_yaml(
            dashboard.UID, data, namespace=ctx.options.namespace, folder=ctx.options.grafana_folder,
            source="dd2prom SLO dashboard"), k8s=True))
    for spec in converted:
        item = ctx.ledger.get(KIND, spec.id)
        item.outputs += outputs
        if sentence:
            item.note(sentence)
