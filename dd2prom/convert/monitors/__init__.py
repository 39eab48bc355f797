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

from typing import Any

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
from dd2prom.snapshot import Snapshot, SnapshotObject

KIND = "monitor"
RULE_FILES = "monitor_rule_files"   # ctx.shared: (RuleFiles, routed matchers) until the finishers close them
IN_PLACE = {"slo alert", "composite"}   # read or register facts of the whole run: converted in the parent
GUESSED = "monitor_names_guessed"   # ctx.shared during the stage: alert names a worker gave (see run)
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

    def admit(obj: SnapshotObject, name: str | None = None) -> tuple[MonitorSpec, CoverageItem, str, str] | None:
        """A monitor read in the parent: its ledger row and the run's facts about
        it, in input order; with its alert name (``name``, else the next free
        one) when it depends on no other monitor, None otherwise."""
        if record_unreadable(ctx, KIND, obj):
            return None
        if obj.data.get("type") == "slo alert":
            slo_alerts.append((obj.id, obj.data))
        try:
            spec = MonitorSpec.parse(obj.id, obj.data)
        except Exception as exc:  # a monitor too malformed to read is an error item, not a lost one
            if (tags := raw_tags(obj.data)) is not None:
                monitor_tags[obj.id] = tags
            title = obj.data.get("name")   # (str() of a dict nested too deep would raise)
            title = str(title) if isinstance(title, (str, int, float)) and title else ""
            item = ctx.ledger.add(KIND, obj.id, name=title, type="?")
            item.note(f"The monitor could not be read: {exc.__class__.__name__}: {exc}", Status.ERROR)
            return None
        if isinstance(obj.data.get("tags"), list):   # (raw_tags: the spec's tags, made once)
            monitor_tags[obj.id] = spec.tags
        item, owner = _row(ctx, obj, spec)
        if spec.type in IN_PLACE:
            in_place_specs.append((spec, item, owner))
            return None
        # alert names are unique across the run: given out in input order
        # (a monitor that then fails to convert keeps its name reserved)
        return spec, item, owner, name or alert_name(spec.name, spec.ref, taken)

    files = RuleFiles(ctx)

    def settle(ref: str, item: CoverageItem, owner: str, rr: RenderedRules | None) -> None:
        if rr is not None:
            files.add(owner, rr, item)
            alerts[ref] = {"alertname": rr.alert_name, "group": rr.group, "status": rr.status,
                           "matchers": {MONITOR_LABEL: ref}, "owner": owner}

    def in_place(spec: MonitorSpec, item: CoverageItem, owner: str, name: str | None = None) -> None:
        rr = None
        with ctx.guard(item):
            mr = convert_one(spec, item, ctx, am, taken, name)
            rr = RenderedRules.of(mr) if mr else None
        settle(spec.ref, item, owner, rr)

    def again(path, name: str | None = None) -> None:
        """A monitor the workers did not convert (or not as a serial run would):
        read and converted here, against the run's context."""
        if job := admit(snapshot.load("monitors", path), name):
            in_place(*job)

    # metric, service check and synthetics monitors depend on no other monitor:
    # read and converted on every core (see dd2prom.convert.parallel), applied in
    # order. A worker cannot know the alert names given to monitors of other
    # workers: it guesses against those it gave itself (right unless another
    # worker's earlier monitor took the name first), and a monitor whose name
    # turns out to be taken is converted again here under the name it gets.
    # The mapping tables are loaded before the workers fork, not once in each.
    ctx.translate_context("monitor")
    ctx.shared[GUESSED] = set()
    for path, result in parallel.convert_items(ctx, _convert_file, snapshot.paths("monitors")):
        if result.error or result.value is None or parallel.clashes(ctx, result):
            again(path)
            continue
        title, ref, tags, owner, guess, rr, delta = result.value
        name = alert_name(title, ref, taken)
        if name != guess:
            again(path, name)
            continue
        item = result.items[0]
        if tags is not None:
            monitor_tags[item.id] = tags
        parallel.apply(ctx, result)
        am.merge(delta)
        settle(ref, item, owner, rr)
    del ctx.shared[GUESSED]
    ctx.shared[MONITOR_TAGS] = monitor_tags
    ctx.shared[SLO_ALERT_MONITORS] = slo_alerts
    # SLO alerts, then composites (they read the alerts of the monitors they combine)
    in_place_specs.sort(key=lambda s: s[0].type == "composite")
    for spec, item, owner in in_place_specs:
        in_place(spec, item, owner)
    ctx.shared[RULE_FILES] = files, {r["matchers"][0] for r in am.routes if r.get("matchers")}
    ctx.on_finish("monitor-rule-files", _close_rule_files)


def _row(ctx: ConvertContext, obj: SnapshotObject, spec: MonitorSpec) -> tuple[CoverageItem, str]:
    """A readable monitor's ledger row (in the parent or a worker) and owner."""
    item = ctx.ledger.add(KIND, obj.id, name=spec.name, type=spec.type or "?")
    owner = spec.owner(ctx.options.group_by_tag)
    item.extra.update(tags=spec.tags, owner=owner, query=spec.query, monitor_id=spec.ref)
    return item, owner


def _close_rule_files(ctx: ConvertContext) -> None:
    """The rule files' ends and their monitors' rows (outputs, tests), with the
    finishers: the dashboards' workers, forked right after the monitors stage,
    start sooner (nothing before the finishers reads them). The files are
    taken out of ctx.shared (they hold the context: no cycle left)."""
    files, routed = ctx.shared.pop(RULE_FILES)   # (routed: the monitors' own routes, as the stage ended)
    files.finish(lambda ref: [ALERTMANAGER_OUTPUT] if f'{MONITOR_LABEL}="{ref}"' in routed else [])


def _convert_file(ictx: ConvertContext, path):
    """A monitor file read and, when it depends on no other monitor, converted
    in an item context, into its own Alertmanager builder, under the alert name
    guessed against ``ictx.shared[GUESSED]`` (see :func:`run`). Returns its
    name, id, tags (None without a tags list), owner, the guessed alert name,
    its rendered rules and the builder; None for a monitor the parent reads
    itself (unreadable, malformed, SLO alert or composite)."""
    obj = ictx.snapshot.load("monitors", path)
    if obj.error is not None or not isinstance(obj.data, dict):
        return None
    try:
        spec = MonitorSpec.parse(obj.id, obj.data)
    except Exception:
        return None
    if spec.type in IN_PLACE:
        return None
    item, owner = _row(ictx, obj, spec)
    name = alert_name(spec.name, spec.ref, ictx.shared[GUESSED])
    delta = ictx.shared[SHARED_AM] = AlertmanagerConfig()
    rr, converted = None, False
    with ictx.guard(item):
        mr = convert_one(spec, item, ictx, delta, set(), name)
        rr = RenderedRules.of(mr) if mr else None
        converted = True
    if not converted:
        delta = AlertmanagerConfig()   # nothing half-routed for a monitor that failed
    return spec.name, spec.ref, spec.tags if isinstance(obj.data.get("tags"), list) else None, owner, name, rr, delta


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
