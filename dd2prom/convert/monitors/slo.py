"""SLO alerts (burn rate, error budget): the SLO converter owns them.

The slos stage runs after monitors, so the item's status is settled in a
finisher: ``ctx.shared["slo_alerts"][slo_id]`` (written by the slos stage) is
either a status string or ``{"status": ..., "outputs": [...], "notes": [...],
"matchers": {...}}``; matchers, when given, get this monitor's @-mentions routed.
"""

from __future__ import annotations

import re

from dd2prom.model import Status

SLO_RE = re.compile(r"""(burn_rate|error_budget)\(\s*["']([^"']+)["']\s*\)""")


PENDING = "monitor_slo_alerts"


def handle(spec, ctx, item, route) -> None:
    """Record an SLO alert monitor; :func:`settle` decides its status after the slos stage."""
    m = SLO_RE.search(spec.query)
    if not m:
        item.note(f"SLO alert query not understood: {spec.query!r}", Status.ERROR)
        return
    item.extra["slo_id"] = m.group(2)
    ctx.shared.setdefault(PENDING, []).append((m.group(1), m.group(2), item, route))


def settle(ctx) -> None:
    """Finisher (registered before the Alertmanager one, so routes still land in the file)."""
    for kind, slo_id, item, route in ctx.shared.get(PENDING, []):
        entry = (ctx.shared.get("slo_alerts") or {}).get(slo_id)
        if entry is None:
            item.note(f"SLO {kind} alert on SLO {slo_id}: the SLO converter made no alert for it; "
                      "write the burn-rate alert by hand.", Status.MANUAL)
            continue
        if not isinstance(entry, dict):
            entry = {"status": entry}
        item.note(f"SLO {kind} alert on SLO {slo_id} is converted with the SLO (see its coverage entry).",
                  Status(entry.get("status") or Status.APPROXIMATE))
        for n in entry.get("notes") or []:
            item.note(n)
        item.outputs.extend(entry.get("outputs") or [])
        if entry.get("matchers"):
            route(entry["matchers"])
