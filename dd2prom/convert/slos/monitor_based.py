"""Monitor-based SLOs: uptime = the share of time none of the monitors alerted.

Prometheus keeps every alert's state in the ``ALERTS`` series; the converted
monitors' alerts carry ``dd_monitor_id``. A recording rule samples "is any of
them firing" (1/0) at every evaluation; the error ratio over a window is its
average. This is a sampled approximation of Datadog's to-the-second uptime.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.downtimes.matchers import MONITOR_LABEL, STATE_LABEL, Matcher, scope_matchers
from dd2prom.convert.slos.spec import Sli, SliError, SloSpec, record
from dd2prom.model import Status

ALERTING = "slo:monitor_alerting:bool"
APPROX_NOTE = ("Uptime is the share of rule evaluations at which one of the converted monitors' alerts was "
               "firing in the alert state (ALERTS series; warn and no-data count as uptime, as in Datadog): "
               "sampled at the evaluation interval, counting only after the alerts' 'for' duration, with "
               "history starting when the rules are deployed; Datadog counts the monitors' alert time to the "
               "second.")


def _group_conjunctions(groups: list[str], mappings: Any) -> list[list[Matcher]]:
    """Datadog monitor groups (``host:a,env:prod``) → matchers, any of which selects."""
    try:
        return [c for g in groups for c in scope_matchers(g, mappings)] or [[]]
    except ValueError as exc:
        raise SliError(f"The SLO's groups cannot be matched on alert labels: {exc}.") from None


def _test_labels(monitor_id: str, conjunctions: list[list[Matcher]]) -> dict[str, str] | None:
    """Labels of an ALERTS series the SLI counts; None when a group uses patterns."""
    labels = {MONITOR_LABEL: monitor_id, STATE_LABEL: "alert"}
    for m in conjunctions[0]:
        if m.regex or not m.equal:
            return None
        labels[m.name] = m.value
    return labels


def build(spec: SloSpec, data: dict[str, Any], ctx: ConvertContext, windows: Iterable[str]) -> Sli:
    ids = [str(i) for i in data.get("monitor_ids") or []]
    if not ids:
        raise SliError("The monitor SLO lists no monitor_ids.", Status.ERROR)
    notes, status, usable = [APPROX_NOTE], Status.APPROXIMATE, []
    converted = ctx.shared.get("monitor_alerts") or {}   # written by the monitors stage
    for mid in ids:
        item = ctx.ledger.get("monitor", mid)
        if mid in converted:
            usable.append(mid)
        elif "monitor_alerts" not in ctx.shared:    # convert --only without the monitors stage
            notes.append(f"Monitor {mid} was not converted (the monitors stage did not run: add monitors to "
                         "convert --only); its alerts cannot be counted.")
            status = Status.worst(status, Status.MANUAL)
        elif item is None:
            notes.append(f"Monitor {mid} is not in the snapshot; its alerts cannot be counted.")
            status = Status.worst(status, Status.MANUAL)
        else:
            notes.append(f"Monitor {mid} was not converted ({item.status.value}); its alerts cannot be counted.")
            status = Status.worst(status, Status.MANUAL)
    if not usable:
        raise SliError(" ".join(notes[1:]) or "None of the SLO's monitors was converted.")
    id_matcher = (Matcher(MONITOR_LABEL, usable[0]) if len(usable) == 1
                  else Matcher(MONITOR_LABEL, "|".join(re.escape(m) for m in usable), regex=True)).text()
    groups = [str(g) for g in data.get("groups") or []]
    conjunctions = _group_conjunctions(groups, ctx.translate_context().mappings)
    base = ['alertstate="firing"', f'{STATE_LABEL}="alert"', id_matcher]
    firing = " or ".join("max(ALERTS{" + ",".join(base + [m.text() for m in c]) + "})" for c in conjunctions)
    if groups:
        notes.append(f"Only the groups {', '.join(groups)} count, matched on the alerts' labels.")
    sli = Sli(base_rules=[record(ALERTING, f"({firing}) or vector(0)", spec.labels)], ratios={},
              status=status, notes=notes, alerts_labels=_test_labels(usable[0], conjunctions))
    for window in [*windows, *(o.timeframe for o in spec.objectives)]:
        sli.ratios[window] = f"avg_over_time({ALERTING}{spec.selector}[{window}])"
    return sli
