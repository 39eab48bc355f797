"""Stage: downtimes → Alertmanager silences and muting time intervals.

* one-time downtimes → ``alertmanager/silences/<id>.json``: a JSON array of
  silences for ``amtool silence import`` (or ``POST /api/v2/silences`` each);
* recurring downtimes → a ``time_intervals`` entry ``downtime-<id>`` and mute
  routes in ``alertmanager/alertmanager.yaml`` (the monitors stage's routes
  get child routes with ``mute_time_intervals``);
* expired and canceled downtimes are noted and skipped.

"Now" is ``ctx.shared["now"]`` when set (tests, reproducible runs), else the
current UTC time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.downtimes import schedules, silences
from dd2prom.convert.downtimes.downtime import Downtime, DowntimeError, read
from dd2prom.convert.downtimes.matchers import Matcher
from dd2prom.convert.monitors.spec import MONITOR_TAGS, raw_tags
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.emit import alertmanager
from dd2prom.emit.k8s import dns_name
from dd2prom.model import CoverageItem, Status
from dd2prom.snapshot import Snapshot, safe_filename

KIND = "downtime"
OPEN_ENDED = timedelta(days=365)


def _skip(item: CoverageItem, why: str) -> None:
    item.note(why)
    item.extra["skipped"] = True


def _recurring(dt: Downtime, item: CoverageItem, ctx: ConvertContext, now: datetime,
               conjunctions: list[list[Matcher]]) -> None:
    intervals = []
    live = [r for r in dt.recurrences if r.until is None or r.until > now]
    if not live:
        _skip(item, f"The recurrence ended on {max(r.until for r in dt.recurrences).isoformat()}; nothing to mute.")
        return
    for rec in live:
        ivs, notes, status = schedules.time_intervals(rec, now)
        intervals += [iv for iv in ivs if iv not in intervals]
        for n in notes:
            item.note(n, status)
    name = "downtime-" + dns_name(dt.id, max_len=50)
    am = alertmanager.alertmanager_config(ctx)
    am.add_time_interval(name, intervals)
    for ms in conjunctions:
        am.mute_route([m.text() for m in ms], name)
    item.outputs.append(alertmanager.OUTPUT)
    item.extra["time_interval"] = name


def _one_time(dt: Downtime, item: CoverageItem, ctx: ConvertContext, now: datetime,
              conjunctions: list[list[Matcher]]) -> None:
    if dt.end is not None and dt.end <= now:
        _skip(item, f"The downtime ended on {dt.end.isoformat()}; nothing to silence.")
        return
    starts = dt.start or now
    ends = dt.end
    if ends is None:
        ends = max(now, starts) + OPEN_ENDED
        item.note(f"The downtime has no end; the silence ends on {ends.date().isoformat()} (one year): renew it "
                  "if it is still needed.", Status.APPROXIMATE)
    rel = f"alertmanager/silences/{safe_filename(dt.id)}.json"
    item.outputs.append(ctx.out.write_json(rel, silences.silences(dt, conjunctions, starts, ends)))


def _convert(obj, item: CoverageItem, ctx: ConvertContext, now: datetime, monitor_tags: silences.TagIndex,
             ids: set[str]) -> None:
    parent = obj.data.get("parent_id")
    if parent is not None and str(parent) in ids:
        _skip(item, f"An occurrence of recurring downtime {parent}, which is converted as a whole.")
        item.type = "occurrence"
        return
    try:
        dt = read(obj.id, obj.data, now)
    except DowntimeError as exc:
        item.note(str(exc), exc.status)
        return
    item.type = dt.kind
    if dt.canceled:
        _skip(item, "The downtime was canceled; nothing to carry over.")
        return
    if dt.mute_first_recovery:
        item.note("mute_first_recovery_notification (mute the first recovery notification) has no Alertmanager "
                  "setting; resolved notifications follow Alertmanager's send_resolved and notification log.",
                  Status.APPROXIMATE)
    if dt.notify_end_states == []:
        item.note("Datadog was set not to notify when the downtime ends; Alertmanager notifies alerts still "
                  "firing when the mute ends.", Status.APPROXIMATE)
    target, notes = silences.monitor_matchers(dt, monitor_tags)
    for n in notes:
        item.note(n)
    if target is None:
        item.note("The downtime mutes no converted monitor.", Status.MANUAL)
        return
    try:
        scope = silences.scope_dnf(dt.scope, ctx.translate_context().mappings)
        conjunctions = [c + target for c in scope]
        if any(scope):
            item.note("Scope tags match the alerts' labels of the same name (after tag mapping); an alert without "
                      "that label is not muted, as a Datadog monitor not grouped by that tag is not.")
        if len(conjunctions) > 1:
            item.note(f"The scope is a disjunction: {len(conjunctions)} matcher sets, each muted.")
        (_recurring if dt.recurrences else _one_time)(dt, item, ctx, now, conjunctions)
    except DowntimeError as exc:
        item.note(str(exc), exc.status)


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    now = ctx.shared.get("now") or datetime.now(UTC)
    tagged = ctx.shared.get(MONITOR_TAGS)   # read by the monitors stage, when it ran
    if tagged is None:
        tagged = {obj.id: tags for obj in snapshot.iter("monitors") if (tags := raw_tags(obj.data)) is not None}
    monitor_tags = silences.TagIndex(tagged)
    objs = list(snapshot.iter("downtimes"))
    ids = {o.id for o in objs}
    for obj in objs:
        if record_unreadable(ctx, KIND, obj):
            continue
        item = ctx.ledger.add(KIND, obj.id, type="?")
        with ctx.guard(item):
            item.name = _name(obj.data)
            _convert(obj, item, ctx, now, monitor_tags, ids)


def _name(data: dict) -> str:
    """The first line of the downtime's message (either API shape)."""
    body = data.get("data") if isinstance(data.get("data"), dict) else data
    attrs = body.get("attributes") if isinstance(body.get("attributes"), dict) else body
    return (str(attrs.get("message") or "").strip().splitlines() or [""])[0][:120]
