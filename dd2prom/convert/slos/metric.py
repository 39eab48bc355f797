"""Metric SLOs: good events / total events, both ``.as_count()`` queries.

The error ratio over a short window (5m … 3d) is ``1 - good/total`` with
both queries translated for that window. The SLO timeframes (7d/30d/90d)
are computed from recorded 5m event counts with ``sum_over_time``, a ratio
of sums (weighted by traffic, like Datadog's), not an average of ratios.

The good events are filled with 0 where only total events exist: a good
query that matches no series (every request failing) must read as an error
ratio of 1, not as no data that keeps every alert quiet.
"""

from __future__ import annotations

from typing import Any, Iterable

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.queries import translate, translate_formula
from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.convert.slos.spec import Sli, SliError, SloSpec, record
from dd2prom.model import Status

GOOD, TOTAL = "slo:sli_good:count5m", "slo:sli_total:count5m"
_CONTEXTS = "slo_translate_contexts"   # ctx.shared: window → the translate context of metric SLIs


def _queries(data: dict[str, Any]) -> tuple[Any, Any]:
    """(good, total): each a query string or a (formula, {name: query}) pair."""
    query = data.get("query") or {}
    if isinstance(query, dict) and query.get("numerator") and query.get("denominator"):
        return str(query["numerator"]), str(query["denominator"])
    count = (data.get("sli_specification") or {}).get("count") or {}
    named = {}
    for q in count.get("queries") or []:
        if (q.get("data_source") or "metrics") != "metrics":
            raise SliError(f"SLI query {q.get('name')!r} reads data source {q.get('data_source')!r}; "
                           "only metric queries can be converted.")
        named[str(q.get("name"))] = str(q.get("query") or "")
    good = (count.get("good_events_formula") or {}).get("formula")
    total = (count.get("total_events_formula") or {}).get("formula")
    if named and good and total:
        return (str(good), named), (str(total), named)
    raise SliError("The SLO has no numerator/denominator queries.", Status.ERROR)


def _translate(query: Any, tctx: TranslateContext) -> Translation:
    if isinstance(query, tuple):
        formula, named = query
        # only the queries the formula names, so an unused one cannot fail it
        used = {k: v for k, v in named.items() if k in formula}
        return translate_formula(formula, used, ctx=tctx)
    return translate(query, ctx=tctx)


def _text(query: Any) -> str:
    if isinstance(query, tuple):
        formula, named = query
        return f"{formula} where " + ", ".join(f"{k} = {v}" for k, v in named.items())
    return query


def build(spec: SloSpec, data: dict[str, Any], ctx: ConvertContext, windows: Iterable[str]) -> Sli:
    good_q, total_q = _queries(data)
    labels = spec.labels
    sli = Sli(base_rules=[], ratios={})
    contexts = ctx.shared.setdefault(_CONTEXTS, {})
    for window in ["5m", *[w for w in windows if w != "5m"]]:
        tctx = contexts.get(window)
        if tctx is None:
            # (one per window for every SLO; the translations are only read, so the
            # memo's own are handed out rather than copies)
            tctx = contexts[window] = ctx.translate_context("plain", window=window, copy_results=False)
        good, total = _translate(good_q, tctx), _translate(total_q, tctx)
        for role, query, tr in (("good events", good_q, good), ("total events", total_q, total)):
            if not tr.ok:
                reason = tr.error or " ".join(tr.notes) or "not translatable"
                raise SliError(f"The {role} query {_text(query)!r} cannot be translated: {reason}",
                               Status.ERROR if tr.status is Status.ERROR else Status.UNSUPPORTED)
            if window == "5m":
                sli.status = Status.worst(sli.status, tr.status)
                sli.notes += [n for n in tr.notes if n not in sli.notes]
                sli.metrics += [m for m in tr.metrics if m not in sli.metrics]
                sli.translations.append({"role": role, **tr.to_json()})
        g, t = good.promql, total.promql
        if sorted(good.group_by) != sorted(total.group_by):
            # one-to-one division would match nothing: compare the SLO as a whole
            g, t = f"sum({g})", f"sum({t})"
            sli.status = Status.worst(sli.status, Status.APPROXIMATE)
            msg = (f"The good ({', '.join(good.group_by) or 'no'} groups) and total "
                   f"({', '.join(total.group_by) or 'no'} groups) queries are grouped differently; "
                   "the SLI is computed over all groups together.")
            if msg not in sli.notes:
                sli.notes.append(msg)
        # no good events at all (total outage) leaves the good query empty; count them as 0
        g = f"({g}) or (0 * ({t}))"
        if window == "5m":
            sli.base_rules = [record(GOOD, g, labels), record(TOTAL, t, labels)]
            sli.ratios[window] = f"1 - ({GOOD}{spec.selector} / {TOTAL}{spec.selector})"
        else:
            sli.ratios[window] = f"1 - (({g}) / ({t}))"
    if good.group_by and sorted(good.group_by) == sorted(total.group_by):
        sli.status = Status.worst(sli.status, Status.APPROXIMATE)
        sli.notes.append(f"The SLI, its budget and its alerts are per {', '.join(good.group_by)}; Datadog computes "
                         "the SLO over all groups together and shows the groups beside it.")
    for obj in spec.objectives:
        tf = obj.timeframe
        sli.ratios[tf] = (f"1 - (sum_over_time({GOOD}{spec.selector}[{tf}]) / "
                          f"sum_over_time({TOTAL}{spec.selector}[{tf}]))")
    sli.notes.append(f"The {'/'.join(o.timeframe for o in spec.objectives)} ratios are sums of the "
                     f"recorded 5m event counts ({GOOD}, {TOTAL}): they cover the full timeframe only "
                     "once the rules have run that long.")
    return sli

