"""Stage: monitors → PrometheusRule resources, Alertmanager routing, promtool tests.

One family module per monitor type (``metric``, ``service_check``,
``composite``, ``synthetics``, ``slo``, ``unsupported``) reduces a monitor to
an :class:`~dd2prom.convert.monitors.base.Alerting`; :mod:`.build` turns it
into rules, annotations (:mod:`.message`), routes (:mod:`.routing`) and
:mod:`.ruletests` generates the promtool tests. Rules are grouped into one
PrometheusRule per owner tag (``ctx.options.group_by_tag``), split in parts
when large, and written by :mod:`.rulefiles` as the monitors settle:

* ``prometheus/rules/monitors-<owner>.yaml``        PrometheusRule (kustomization)
* ``prometheus/rule-files/monitors-<owner>.rules.yaml`` the same groups as a rule file
* ``prometheus/tests/monitors-<owner>.test.yaml``  promtool unit tests
* ``alertmanager/alertmanager.yaml``                 via :mod:`dd2prom.emit.alertmanager`

``ctx.shared["monitor_alerts"][monitor id]`` tells later stages (SLOs,
downtimes) the alert name, group labels and matchers of each converted monitor.
"""

from __future__ import annotations

from typing import Any, Iterator

from dd2prom.convert import parallel
from dd2prom.convert.context import ConvertContext
from dd2prom.convert.monitors import (
    composite,
    metric,
    service_check,
    slo,
    synthetics,
    unsupported,
)
from dd2prom.convert.monitors import message as msg
from dd2prom.convert.monitors.base import NotConverted
from dd2prom.convert.monitors.build import MonitorRules, alert_name, build
from dd2prom.convert.monitors.rulefiles import RenderedRules, RuleFiles
from dd2prom.convert.monitors.routing import add_monitor_route
from dd2prom.convert.monitors.rules import MONITOR_LABEL, number
from dd2prom.convert.monitors.spec import MONITOR_TAGS, SLO_ALERT_MONITORS, MonitorSpec, option_notes, raw_tags, renotify_states
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.emit.alertmanager import OUTPUT as ALERTMANAGER_OUTPUT
from dd2prom.emit.alertmanager import SHARED_KEY as SHARED_AM
from dd2prom.emit.alertmanager import AlertmanagerConfig, alertmanager_config
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import Snapshot

KIND = "monitor"
RULE_FILES = "monitor_rule_files"   # ctx.shared: (RuleFiles, routed matchers) until the finishers close them
IN_PLACE = {"slo alert", "composite"}   # read or register facts of the whole run: converted in the parent
FAMILIES = {
    "metric alert": metric.convert,
    "query alert": metric.convert,
    "service check": service_check.convert,
    "synthetics alert": synthetics.convert,
    "composite": composite.convert,
}


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    ctx.on_finish("monitor-slo-alerts", slo.settle)   # before the Alertmanager file is written
    am = alertmanager_config(ctx)
    alerts: dict[str, dict[str, Any]] = ctx.shared.setdefault("monitor_alerts", {})
    taken: set[str] = set()
    in_place_specs: list[tuple[MonitorSpec, CoverageItem, str]] = []
    monitor_tags: dict[str, list[str]] = {}
    slo_alerts: list[tuple[str, dict[str, Any]]] = []

    def read() -> Iterator[tuple[MonitorSpec, CoverageItem, str, str]]:
        """Every monitor's ledger row, in input order; those that depend on no
        other monitor come with their alert name, for the workers. Read while
        the workers convert the first ones."""
        for obj in snapshot.iter("monitors"):
            if record_unreadable(ctx, KIND, obj):
                continue
            if (tags := raw_tags(obj.data)) is not None:
                monitor_tags[obj.id] = tags
            if obj.data.get("type") == "slo alert":
                slo_alerts.append((obj.id, obj.data))
            try:
                spec = MonitorSpec.parse(obj.id, obj.data)
            except Exception as exc:  # a monitor too malformed to read is an error item, not a lost one
                name = obj.data.get("name")   # (str() of a dict nested too deep would raise)
                name = str(name) if isinstance(name, (str, int, float)) and name else ""
                item = ctx.ledger.add(KIND, obj.id, name=name, type="?")
                item.note(f"The monitor could not be read: {exc.__class__.__name__}: {exc}", Status.ERROR)
                continue
            item = ctx.ledger.add(KIND, obj.id, name=spec.name, type=spec.type or "?")
            owner = spec.owner(ctx.options.group_by_tag)
            item.extra.update(tags=spec.tags, owner=owner, query=spec.query, monitor_id=spec.ref)
            if spec.type in IN_PLACE:
                in_place_specs.append((spec, item, owner))
            else:
                # alert names are unique across the run: given out in input order
                # (a monitor that then fails to convert keeps its name reserved)
                yield spec, item, owner, alert_name(spec, taken)

    files = RuleFiles(ctx)

    def settle(spec: MonitorSpec, item: CoverageItem, owner: str, rr: RenderedRules | None) -> None:
        if rr is not None:
            files.add(owner, rr, item)
            alerts[spec.ref] = {"alertname": rr.alert_name, "group": rr.group, "status": rr.status,
                                "matchers": {MONITOR_LABEL: spec.ref}, "owner": owner}

    def in_place(spec: MonitorSpec, item: CoverageItem, owner: str, name: str | None = None) -> None:
        rr = None
        with ctx.guard(item):
            mr = convert_one(spec, item, ctx, am, taken, name)
            rr = RenderedRules.of(mr) if mr else None
        settle(spec, item, owner, rr)

    # metric, service check and synthetics monitors depend on no other monitor:
    # converted on every core (see dd2prom.convert.parallel), applied in order.
    # The mapping tables are loaded before the workers fork, not once in each.
    ctx.translate_context("monitor")
    for (spec, item, owner, name), result in parallel.convert_items(ctx, _convert_alone, read()):
        if result.error or parallel.clashes(ctx, result):
            in_place(spec, item, owner, name)
            continue
        done, rr, delta = result.value
        vars(item).update(vars(done))
        parallel.apply(ctx, result)
        am.merge(delta)
        settle(spec, item, owner, rr)
    ctx.shared[MONITOR_TAGS] = monitor_tags
    ctx.shared[SLO_ALERT_MONITORS] = slo_alerts
    # SLO alerts, then composites (they read the alerts of the monitors they combine)
    in_place_specs.sort(key=lambda s: s[0].type == "composite")
    for spec, item, owner in in_place_specs:
        in_place(spec, item, owner)
    ctx.shared[RULE_FILES] = files, {r["matchers"][0] for r in am.routes if r.get("matchers")}
    ctx.on_finish("monitor-rule-files", _close_rule_files)


def _close_rule_files(ctx: ConvertContext) -> None:
    """The rule files' ends and their monitors' rows (outputs, tests), with the
    finishers: the dashboards' workers, forked right after the monitors stage,
    start sooner (nothing before the finishers reads them). The files are
    taken out of ctx.shared (they hold the context: no cycle left)."""
    files, routed = ctx.shared.pop(RULE_FILES)   # (routed: the monitors' own routes, as the stage ended)
    files.finish(lambda ref: [ALERTMANAGER_OUTPUT] if f'{MONITOR_LABEL}="{ref}"' in routed else [])


def _convert_alone(ictx: ConvertContext, job: tuple[MonitorSpec, CoverageItem, str, str]):
    """One monitor in an item context, into its own Alertmanager builder; returns
    the converted item, its rendered rules and the builder."""
    spec, item, _, name = job
    delta = ictx.shared[SHARED_AM] = AlertmanagerConfig()
    rr, converted = None, False
    with ictx.guard(item):
        mr = convert_one(spec, item, ictx, delta, set(), name)
        rr = RenderedRules.of(mr) if mr else None
        converted = True
    if not converted:
        delta = AlertmanagerConfig()   # nothing half-routed for a monitor that failed
    return item, rr, delta


def convert_one(spec: MonitorSpec, item: CoverageItem, ctx: ConvertContext, am, taken: set[str],
                name: str | None = None) -> MonitorRules | None:
    if spec.type == "slo alert":
        slo.handle(spec, ctx, item, lambda matchers: _route_slo(spec, item, am, matchers))
        return None
    family = FAMILIES.get(spec.type, unsupported.convert)
    try:
        cond = family(spec, ctx)
    except NotConverted as nc:
        for n in nc.notes:
            item.note(n)
        item.note(nc.reason, nc.status)
        return None
    item.status = Status.worst(item.status, cond.status)
    for n in cond.notes:
        item.note(n)
    for n, status in option_notes(spec, cond.window_seconds):
        item.note(n, status)
    mr = build(spec, cond, item, am, taken, ctx.translate_context("monitor").mappings, name)
    crit = next(lv for lv in mr.levels if lv.state == "alert")
    item.extra.update(
        alertname=mr.alert_name, metrics=cond.metrics, prom_metrics=cond.prom_metrics, group_by=mr.group,
        promql=f"{cond.expr} {cond.comparator} {number(cond.bound if cond.fraction_window else crit.threshold)}")
    return mr


def _route_slo(spec: MonitorSpec, item: CoverageItem, am, matchers: dict[str, str]) -> None:
    variables = msg.Variables(labels=lambda t: None, any_label=lambda t: t)
    parts = msg.parse(spec.message, variables, [])
    mentions = {state: msg.mentions(msg.resolve(parts, state, spec.priority)) for state in ("alert", "warn")}
    # as for other monitors: recoveries reach only the handles the recovery text
    # still names, and only renotify_statuses repeat
    recovered = {h for h, _ in msg.mentions(msg.resolve(parts, "recovery", spec.priority))}
    renotify = spec.window_minutes_option("renotify_interval")
    for note, status in add_monitor_route(am, matchers, f"{spec.ref} {spec.name}", mentions, ["alert", "warn"],
                                          [], renotify, recovered, renotify_states(spec) if renotify else set()):
        item.note(note, status)
    item.outputs.append(ALERTMANAGER_OUTPUT)
