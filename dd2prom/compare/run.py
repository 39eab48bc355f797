"""Compare one target: run both queries, align, measure, judge.

Each result is a plain dict (one entry of compare.json's ``items``, schema in
docs/compare.md) with a verdict:

* ``match``     every series found on both sides, median relative error and
                decision disagreement within the tolerance;
* ``diverges``  the numbers (or the alert decisions) differ beyond the tolerance,
                or the PromQL keeps labels Datadog aggregates away;
* ``missing``   series exist on one side only (or no series pairs up at all);
* ``no_data``   neither side has data in the range;
* ``error``     a query failed; ``skipped``: nothing to compare (reason given).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from dd2prom.compare.align import Key, align, first_metric, group_tags, key_text
from dd2prom.compare.datadog_source import DatadogResult, DatadogSource, Series, SourceError
from dd2prom.compare.ledger import Target, with_step
from dd2prom.compare.metrics import decision_stats, reduce_values, rolling, value_stats
from dd2prom.compare.prometheus_source import PrometheusSource
from dd2prom.compare.timerange import default_step, iso

_RANGE_RE = re.compile(r"\[(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)(?::[^\]]*)?\]")


@dataclass
class Options:
    start: int
    end: int
    tolerance: float = 0.05
    label_map: dict[str, str] = field(default_factory=dict)
    mappings: Any = None
    scrape_interval: int = 15
    tolerances: dict[str, float] = field(default_factory=dict)   # per coverage.json id (--config)


def base_row(t: Target) -> dict[str, Any]:
    return {
        "kind": t.kind, "id": t.item_id, "name": t.name, "query_index": t.index,
        "datadog_query": t.datadog_query, "promql": t.promql, "alert_promql": t.alert_promql,
        "verdict": "skipped", "headline": "", "reason": t.skip, "step_seconds": None,
        "datadog_interval_seconds": None, "series": None, "points": None, "relative_error": None,
        "decisions": None, "tolerance": None, "notes": [], "explanations": [],
    }


def compare_targets(targets: Sequence[Target], dd: DatadogSource, prom: PrometheusSource, opts: Options,
                    concurrency: int = 1, advance: Callable[[], None] = lambda: None) -> list[dict[str, Any]]:
    """Every target's row, in the targets' order whatever order they finish in:
    the output is the serial run's. Up to ``concurrency`` targets are compared at
    once; each runs its own queries in turn (its Prometheus step comes from its
    Datadog answer), so at most that many requests are in flight on either side,
    and the Datadog client's shared rate gate keeps them all within Datadog's
    limit. A fatal error (bad keys, a server gone) stops the run: targets not yet
    started are cancelled and the error is raised once those running finish."""
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="compare") as pool:
        futures = [pool.submit(compare_target, t, dd, prom, opts) for t in targets]
        try:
            for future in as_completed(futures):
                future.result()
                advance()
        except BaseException:       # fatal, a bug or Ctrl-C: do not start the queue
            for future in futures:
                future.cancel()
            raise
    return [f.result() for f in futures]


def compare_target(t: Target, dd: DatadogSource, prom: PrometheusSource, opts: Options) -> dict[str, Any]:
    row = base_row(t)
    if t.skip:
        row["headline"] = f"Not compared: {t.skip}."
        return row
    assert t.datadog_query and t.promql
    try:
        dd_result = _query_datadog(t, dd, opts, row)
    except SourceError as exc:
        if exc.fatal:
            raise
        return _error(row, f"Datadog: {exc}")
    step = dd_result.interval or default_step(opts.start, opts.end)
    row["datadog_interval_seconds"] = dd_result.interval
    row["step_seconds"] = step
    try:
        sides = _query_prometheus(t, prom, opts, dd_result, step)
    except SourceError as exc:
        if exc.fatal:
            raise
        return _error(row, f"Prometheus: {exc}")
    row["promql"] = sides.expr

    tags = group_tags(t.datadog_query) + list(dd_result.tag_groups)
    al = align(sides.datadog, sides.prometheus, tags, opts.label_map, opts.mappings, first_metric(t.datadog_query))
    values = value_stats(al.pairs)
    row["series"] = {
        "datadog": len(dd_result.series), "prometheus": len(sides.prometheus), "matched": len(al.pairs),
        "labels": al.label_names,
        "missing_in_prometheus": [key_text(k) for k in al.datadog_only],
        "missing_in_datadog": [key_text(k) for k in al.prometheus_only],
        "ambiguous": [key_text(k) for k in al.ambiguous],
    }
    row["points"] = {"compared": values.compared, "missing_in_prometheus": values.missing_in_prometheus,
                     "missing_in_datadog": values.missing_in_datadog}
    row["relative_error"] = {"median": values.median, "max": values.max,
                             "worst_series": values.worst_series,
                             "worst_at": iso(values.worst_at) if values.worst_at is not None else None,
                             "worst_series_median": values.worst_series_median,
                             "worst_median_series": values.worst_median_series}
    decisions = None
    if t.monitor:
        dd_values: dict[Key, dict[int, float]] = {al.datadog_key(s.labels): s.points for s in sides.datadog}
        fired: dict[Key, set[int]] = {}
        for s in sides.fired:
            fired.setdefault(al.prometheus_key(s.labels), set()).update(s.points)
        decisions = decision_stats(dd_values, fired, t.monitor.comparator, t.monitor.threshold)
        row["decisions"] = decisions.to_json()
        if decisions.first_disagreement is not None:
            row["decisions"]["first_disagreement"] = iso(decisions.first_disagreement)
    if not al.pairs and al.datadog_only and sides.prometheus:
        sample = ", ".join(f'{k}="{v}"' for k, v in sorted(sides.prometheus[0].labels.items()))
        row["notes"].append(f"No series pairs up on the labels {al.label_names}: Datadog's look like "
                            f"{key_text(al.datadog_only[0])}, Prometheus's like {{{sample}}}; if the label is named "
                            "or valued differently, map it with --label-map TAG=LABEL.")
    row["explanations"] = explanations(t, dd_result.interval, step, opts, sides) + row["explanations"]
    row["tolerance"] = opts.tolerances.get(t.item_id, opts.tolerance)
    judge(row, al, values, decisions, row["tolerance"])
    return row


def _query_datadog(t: Target, dd: DatadogSource, opts: Options, row: dict[str, Any]) -> DatadogResult:
    result = dd.query(t.datadog_query, opts.start, opts.end)
    if t.monitor and result.interval and t.monitor.window_seconds % result.interval:
        finer = monitor_rollup(t, result.interval, opts)
        if finer:
            row["explanations"].append(
                f"Datadog's automatic {result.interval} s rollup does not divide the monitor window "
                f"({t.monitor.window_seconds} s), so Datadog was asked for {finer[len(t.datadog_query):]} instead.")
            row["datadog_query"] = finer
            result = dd.query(finer, opts.start, opts.end)
    return result


@dataclass
class Sides:
    """Both sides of one comparison, ready to align."""

    expr: str                     # the PromQL as run
    datadog: list[Series]         # rolled up (monitors) or reduced (whole-range widgets)
    prometheus: list[Series]
    fired: list[Series] = field(default_factory=list)   # monitors: the alert expression's series
    offset: int = 0               # Prometheus evaluated this long before Datadog's bucket end
    reduced: bool = False


def _query_prometheus(t: Target, prom: PrometheusSource, opts: Options, dd_result: DatadogResult, step: int) -> Sides:
    assert t.promql
    dd_times = [ts for s in dd_result.series for ts in s.points]
    if t.reduce and dd_times:
        # one value per series over the whole range: reduce Datadog's buckets,
        # evaluate the PromQL once at the end of the last bucket
        last, span = max(dd_times), max(dd_times) - min(dd_times) + step
        expr = with_step(t.promql, step, opts.scrape_interval, span)
        reduced = [Series(s.labels, {last: reduce_values(t.reduce, [s.points[k] for k in sorted(s.points)])})
                   for s in dd_result.series if s.points]
        return Sides(expr, reduced, prom.query_range(expr, last, last, step), reduced=True)
    if dd_times:
        # Datadog's grid, from the first bucket that starts inside the range
        anchor = min(dd_times)
        start, end = anchor - max(0, (anchor - step - opts.start) // step) * step, max(dd_times)
    else:
        start, end = -(-opts.start // step) * step, opts.end
    expr = with_step(t.promql, step, opts.scrape_interval, opts.end - opts.start)
    offset = 0
    if not t.monitor and not _RANGE_RE.search(expr):
        expr, offset = bucket_expr(expr, t.datadog_query or "", step, opts.scrape_interval)
    prometheus = [Series(s.labels, {ts + offset: v for ts, v in s.points.items()})
                  for s in prom.query_range(expr, start - offset, end - offset, step)]
    if not t.monitor:
        return Sides(expr, dd_result.series, prometheus, offset=offset)
    m = t.monitor
    rolled = [Series(s.labels, rolling(s.points, m.window_seconds, m.time_aggregation, step)) for s in dd_result.series]
    assert t.alert_promql
    return Sides(expr, rolled, prometheus, fired=prom.query_range(t.alert_promql, start, end, step))


# a Datadog query with one metric term, which an explicit .rollup() can follow
_SINGLE_TERM_RE = re.compile(r"^[a-z0-9_]+:[\w.]+\{[^{}]*\}(?:\s*by\s*\{[^{}]*\})?(?:\.as_(?:rate|count)\(\))?$")
_ROLLUP_METHOD = {"avg": "avg", "sum": "sum", "min": "min", "max": "max", "last": "avg"}
MAX_DATADOG_POINTS = 1400


def monitor_rollup(t: Target, interval: int, opts: Options) -> str | None:
    """The monitor's query with an explicit ``.rollup(method, r)`` whose buckets
    tile the monitor window (the largest divisor of the window not above
    Datadog's own interval that keeps the answer under Datadog's point limit);
    None when the query cannot take one."""
    assert t.monitor and t.datadog_query
    if not _SINGLE_TERM_RE.match(t.datadog_query.strip()):
        return None
    window = t.monitor.window_seconds
    for r in range(min(interval, window), 0, -1):
        if window % r == 0 and (opts.end - opts.start) / r <= MAX_DATADOG_POINTS:
            return f"{t.datadog_query.strip()}.rollup({_ROLLUP_METHOD[t.monitor.time_aggregation]}, {r})"
    return None


def _error(row: dict[str, Any], message: str) -> dict[str, Any]:
    row["verdict"] = "error"
    row["reason"] = message
    row["headline"] = f"Comparison failed: {message}"
    return row


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def judge(row: dict[str, Any], al: Any, values: Any, decisions: Any, tolerance: float) -> None:
    """Verdict, the problems found (``notes``) and one headline sentence."""
    s = row["series"]
    notes: list[str] = row["notes"]
    if s["missing_in_prometheus"]:
        notes.append(f"{len(s['missing_in_prometheus'])} of {s['datadog']} Datadog series have no Prometheus "
                     f"counterpart: {', '.join(s['missing_in_prometheus'][:3])}.")
    if s["missing_in_datadog"]:
        notes.append(f"{len(s['missing_in_datadog'])} Prometheus series have no Datadog counterpart: "
                     f"{', '.join(s['missing_in_datadog'][:3])}.")
    if s["ambiguous"]:
        notes.append(f"Several Prometheus series share the labels {', '.join(s['ambiguous'][:3])}: the PromQL "
                     f"keeps labels the Datadog query aggregates away (compared on labels {s['labels']}).")
    diverges = bool(s["ambiguous"])
    if values.median is not None and values.median > tolerance:
        diverges = True
        notes.append(f"Values differ by {_pct(values.median)} (median relative error; max {_pct(values.max)} "
                     f"on {values.worst_series}), above the {_pct(tolerance)} tolerance.")
    elif values.worst_series_median is not None and values.worst_series_median > tolerance:
        diverges = True
        notes.append(f"Series {values.worst_median_series} differs by {_pct(values.worst_series_median)} (its median "
                     f"relative error), above the {_pct(tolerance)} tolerance; the others agree better.")
    if decisions is not None and decisions.steps and decisions.disagreement > tolerance:
        diverges = True
        notes.append(f"The alert decision differs at {decisions.steps - decisions.agree} of {decisions.steps} steps "
                     f"(Datadog alone fires at {decisions.only_datadog}, Prometheus alone at "
                     f"{decisions.only_prometheus}; {decisions.at_crossings} next to a threshold crossing).")
    if decisions is not None and (decisions.never_in_prometheus or decisions.never_in_datadog):
        diverges = True
        for side, other, keys in (("Datadog", "Prometheus", decisions.never_in_prometheus),
                                  ("Prometheus", "Datadog", decisions.never_in_datadog)):
            if keys:
                notes.append(f"The alert fires in {side} but never in {other} for {', '.join(keys[:3])}"
                             + (f" and {len(keys) - 3} more" if len(keys) > 3 else "") + ".")
    if not s["datadog"] and not s["prometheus"]:
        row["verdict"] = "no_data"
        row["headline"] = "Neither Datadog nor Prometheus has data in the range."
        return
    if not al.pairs:
        row["verdict"] = "missing"
        side = "Prometheus returns no series" if not s["prometheus"] else (
            "Datadog returns no series" if not s["datadog"] else "no series pairs up by labels")
        row["headline"] = f"Series missing: {side} ({s['datadog']} in Datadog, {s['prometheus']} in Prometheus)."
        if s["datadog"] and s["prometheus"] and notes:
            row["headline"] += " " + notes[0]
        return
    if values.compared == 0:
        row["verdict"] = "missing"
        row["headline"] = "Series pair up but no timestamps carry values on both sides."
        return
    if diverges:
        row["verdict"] = "diverges"
        row["headline"] = " ".join(notes)
        return
    if s["missing_in_prometheus"] or s["missing_in_datadog"]:
        row["verdict"] = "missing"
        row["headline"] = " ".join(notes)
        return
    row["verdict"] = "match"
    row["headline"] = (f"{s['matched']} series match: median relative error {_pct(values.median)}, "
                       f"max {_pct(values.max)}.")


_DD_ROLLUP_RE = re.compile(r"\.rollup\(\s*(avg|sum|min|max|count)\b")
_OVER_TIME = {"avg": "avg_over_time", "sum": "sum_over_time", "min": "min_over_time", "max": "max_over_time",
              "count": "count_over_time"}


def bucket_expr(expr: str, datadog_query: str, step: int, scrape: int) -> tuple[str, int]:
    """An instant PromQL (a gauge) made comparable with Datadog's bucket, which
    aggregates every point in it (avg unless the query's .rollup() says
    otherwise): the same aggregation over the scrape-interval samples of the
    bucket, evaluated one scrape interval before the bucket's end so that it
    reads the bucket's samples [start, end). The range is a second short of the
    bucket: Prometheus 2 ranges include their left end (3 leaves it out), and the
    sample on it belongs to the previous bucket. Returns (expression, how long
    before the bucket end it is evaluated). With at most one sample per bucket,
    the instant value at the bucket's middle."""
    if step <= scrape:
        return expr, step // 2
    m = _DD_ROLLUP_RE.search(datadog_query)
    return f"{_OVER_TIME[m.group(1) if m else 'avg']}(({expr})[{step - 1}s:{scrape}s])", scrape


def explanations(t: Target, interval: int | None, step: int, opts: Options, sides: Sides) -> list[str]:
    """How the two systems' steps and rollups were lined up, in words."""
    out = []
    offset, reduced = sides.offset, sides.reduced
    if reduced:
        out.append(f"The widget shows one value per series over the whole range: Datadog's {interval} s buckets were "
                   f"reduced with {t.reduce} and compared with the PromQL evaluated once at the end of the last "
                   "bucket, $__range covering every bucket.")
    elif interval and offset and sides.expr != with_step(t.promql or "", step, opts.scrape_interval, opts.end - opts.start):
        out.append(f"Datadog rolled the data up into {interval} s buckets, each an aggregate of its points; the PromQL "
                   f"gives instant values, so it was aggregated the same way over each bucket's "
                   f"{opts.scrape_interval} s samples ({sides.expr.split('((', 1)[0]}(…[{step - 1}s:{opts.scrape_interval}s]), "
                   "evaluated one scrape interval before the bucket's end) and compared bucket by bucket.")
    elif interval and offset:
        out.append(f"Datadog rolled the data up into {interval} s buckets of at most one sample; the PromQL's instant "
                   f"value at each bucket's middle was compared (query_range step {step} s).")
    elif interval:
        out.append(f"Datadog rolled the data up into {interval} s buckets; each bucket is compared with the "
                   f"Prometheus value at the bucket's end (query_range step {step} s).")
    else:
        out.append(f"Datadog returned no series to take a rollup interval from; Prometheus was queried at a "
                   f"{step} s step.")
    windows = sorted(set(_RANGE_RE.findall(t.promql or "")))
    if t.monitor:
        m = t.monitor
        out.append(f"Datadog's {m.time_aggregation}(last {m.window_seconds} s) was recomputed from those buckets "
                   f"(Datadog itself evaluates the raw points); decisions compare it {m.comparator} {m.threshold:g} "
                   "with the steps where the Prometheus alert expression returns the series. Prometheus's 'for:' "
                   "duration and Datadog's evaluation delay are not applied.")
        if interval and m.window_seconds % interval:
            out.append(f"Datadog's rollup interval ({interval} s) does not divide the monitor window "
                       f"({m.window_seconds} s): each step's window covers whole buckets ending in it, "
                       "so it is not exactly the monitor's.")
    elif windows and not reduced:
        out.append(f"The PromQL works over {', '.join('[' + w + ']' for w in windows)} windows while each Datadog "
                   f"point covers one {step} s bucket: a longer window smooths and lags the curve.")
    if t.limit_removed:
        out.append(f"The PromQL's {t.limit_removed} was left out: Grafana picks the top series at each step and "
                   "Datadog over the range, so every series is compared.")
    if "__rate_interval" in (t.promql or ""):
        out.append(f"Grafana's $__rate_interval was taken as {max(step + opts.scrape_interval, 4 * opts.scrape_interval)} s "
                   f"(step + scrape interval, at least 4 × the {opts.scrape_interval} s scrape interval).")
    if "__interval" in (t.promql or "").replace("__rate_interval", ""):
        out.append(f"Grafana's $__interval was taken as the step, {step} s.")
    return out
