"""Synthetics alerts: the ``probe_success`` of the blackbox Probe that replaced the test.

The synthetics stage (it runs first) records each converted test in
``ctx.shared["probes"][public_id] = {"job", "instance", "labels"}``; the test
names its monitor in ``monitor_id``.
"""

from __future__ import annotations

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.convert.monitors.rules import quote
from dd2prom.model import Status


def _test_for(snapshot, monitor_ref: str):
    for obj in snapshot.iter("synthetics"):
        data = obj.data if isinstance(obj.data, dict) else {}
        mid = data.get("monitor_id") or (data.get("_corpus") or {}).get("monitor_id")
        if mid is not None and str(mid) == monitor_ref:
            return obj.id, data
    return None, None


def convert(spec, ctx) -> Alerting:
    public_id, test = _test_for(ctx.snapshot, spec.ref)
    if public_id is None:
        raise NotConverted(Status.MANUAL, "No synthetics test in the snapshot names this monitor.")
    probe = (ctx.shared.get("probes") or {}).get(public_id)
    if not probe:
        raise NotConverted(Status.MANUAL, f"Synthetics test {public_id} has no blackbox Probe "
                           "(see its coverage entry); alert on its probe_success once it has one.")
    matchers = {k: v for k, v in (("job", probe.get("job")), ("instance", probe.get("instance"))) if v}
    matchers.update({k: v for k, v in (probe.get("labels") or {}).items() if k not in matchers})
    sel = ", ".join(f'{k}="{quote(str(v))}"' for k, v in matchers.items())
    options = test.get("options") or {}
    hold = int(options.get("min_failure_duration") or 0)
    notes = [f"Synthetics test {public_id} → probe_success{{{sel}}} < 1"
             + (f" for {hold}s (min_failure_duration)." if hold else ".")]
    status = Status.EXACT
    locations = test.get("locations") or []
    if len(locations) > 1 or int(options.get("min_location_failed") or 1) > 1:
        notes.append(f"Datadog ran the test from {len(locations)} locations (alert when "
                     f"{options.get('min_location_failed', 1)} fail); the blackbox exporter probes from one.")
        status = Status.APPROXIMATE
    return Alerting(expr=f"min(probe_success{{{sel}}})", comparator="<", group=[], window_seconds=0,
                    status=status, notes=notes, prom_metrics=["probe_success"], critical=1,
                    for_seconds=hold, no_data=False)
