"""Time-slice SLOs: a slice (1m or 5m) is good when the query meets the
condition (``p95 latency < 0.5``); uptime = good slices / all slices.

A recording rule evaluated once per slice length records 1 for a bad slice
and 0 for a good one; the error ratio over a window is its average.
"""

from __future__ import annotations

from typing import Any, Iterable

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.queries import translate_formula
from dd2prom.convert.slos.spec import Sli, SliError, SloSpec, fmt_number, record
from dd2prom.model import Status

BAD = "slo:time_slice_bad:bool"
# the comparator that makes a slice bad, for each comparator that makes it good
_NEGATED = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


def build(spec: SloSpec, data: dict[str, Any], ctx: ConvertContext, windows: Iterable[str]) -> Sli:
    ts = (data.get("sli_specification") or {}).get("time_slice") or {}
    comparator, threshold = ts.get("comparator"), ts.get("threshold")
    query = ts.get("query") or {}
    formulas = [f.get("formula") for f in query.get("formulas") or [] if isinstance(f, dict)]
    named = {str(q.get("name")): q for q in query.get("queries") or [] if isinstance(q, dict)}
    if comparator not in _NEGATED or not isinstance(threshold, (int, float)) or len(formulas) != 1 or not named:
        raise SliError("The time-slice SLO needs one formula, its queries, a comparator (>, >=, <, <=) "
                       "and a numeric threshold.", Status.ERROR)
    for name, q in named.items():
        if (q.get("data_source") or "metrics") != "metrics":
            raise SliError(f"SLI query {name!r} reads data source {q.get('data_source')!r}; only metric "
                           "queries can be converted.")
    slice_seconds = ts.get("query_interval_seconds") or 300
    if slice_seconds not in (60, 300):
        raise SliError(f"Slice length {slice_seconds!r} is not 60 or 300 seconds.", Status.ERROR)
    slice_window = f"{slice_seconds // 60}m" if slice_seconds % 60 == 0 else f"{slice_seconds}s"
    tr = translate_formula(str(formulas[0]), {n: str(q.get("query") or "") for n, q in named.items()},
                           ctx=ctx.translate_context("plain", window=slice_window))
    if not tr.ok:
        raise SliError(f"The SLI query cannot be translated: {tr.error or ' '.join(tr.notes)}",
                       Status.ERROR if tr.status is Status.ERROR else Status.UNSUPPORTED)
    bad = f"({tr.promql}) {_NEGATED[comparator]} bool {fmt_number(float(threshold))}"
    notes = list(tr.notes) + [
        f"A slice is the {slice_window} before each evaluation of a rule group evaluated every "
        f"{slice_window} (Datadog aligns slices to the clock); slices without data count neither as good "
        "nor bad (Datadog counts them as uptime by default)."]
    sli = Sli(base_rules=[record(BAD, bad, spec.labels)], ratios={},
              status=Status.worst(tr.status, Status.APPROXIMATE), notes=notes, base_interval=slice_window,
              metrics=list(tr.metrics), translations=[{"role": "slice query", **tr.to_json()}])
    if tr.group_by:
        sli.notes.append(f"The query is grouped by {', '.join(tr.group_by)}: slices are judged per group.")
    for window in [*windows, *(o.timeframe for o in spec.objectives)]:
        sli.ratios[window] = f"avg_over_time({BAD}{spec.selector}[{window}])"
    return sli
