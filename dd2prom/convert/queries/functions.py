"""Datadog functions (``top``, ``default_zero``, ``week_before``, ``diff``,
``per_second``, ...) → PromQL, one handler per function family, each taking
the :class:`~dd2prom.convert.queries.generator.Generator`, the call and the
evaluation settings. Functions PromQL cannot express raise :class:`Unsupported`
with the reason."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from dd2prom.convert.queries import ast
from dd2prom.convert.queries.lexer import QuerySyntaxError
from dd2prom.convert.queries.promql_text import (
    MONTH_SECONDS, OVER_TIME, UNITS, Unsupported, by_clause, duration_seconds, fmt_duration, fmt_number,
)
from dd2prom.convert.queries.values import Env, Out

if TYPE_CHECKING:
    from dd2prom.convert.queries.generator import Generator


def call(gen: Generator, node: ast.Call, env: Env) -> Out:
    """A Datadog function applied to its arguments."""
    name = node.name
    handler = _FUNCTIONS.get(name)
    if handler is None:
        m = _TOP_FAMILY.match(name)
        if m:
            return top(gen, node, env, m.group(1), int(m.group(2)), m.group(3) or "mean")
        if name in _UNSUPPORTED:
            raise Unsupported(f"{name}() has no PromQL equivalent: {_UNSUPPORTED[name]}")
        raise Unsupported(f"Unknown function {name}().")
    return handler(gen, node, env)


def arg(gen: Generator, node: ast.Call, i: int, env: Env) -> Out:
    if len(node.args) <= i or isinstance(node.args[i], ast.String):
        raise Unsupported(f"{node.name}() needs a query as argument {i + 1}.")
    out = gen.gen(node.args[i], env)
    # PromQL functions take vectors: a constant becomes one series
    return out if out.labels is not None else Out(f"vector({out.text})", ())


def timeshift(gen: Generator, node: ast.Call, env: Env) -> Out:
    seconds = _SHIFTS.get(node.name)
    if seconds is None:
        shift = arg_number(node.args, 1)
        if shift is None:
            raise Unsupported("timeshift() needs a shift in seconds.")
        if shift > 0:
            raise Unsupported("timeshift() into the future needs a negative offset, which Prometheus 2.42 "
                              "does not enable by default.")
        fmt_duration(-shift)          # range check
        seconds = int(-shift)
    return arg(gen, node, 0, replace(env, offset=env.offset + seconds))


def per_unit(gen: Generator, node: ast.Call, env: Env) -> Out:
    factor = {"per_second": 1, "per_minute": 60, "per_hour": 3600}[node.name]
    inner = arg(gen, node, 0, replace(env, counter_mode="rate"))
    if not inner.counter:
        gen.note(f"{node.name}() of a gauge: Datadog divides by the rollup interval; the value is "
                  "kept as a per-interval value.")
        return inner
    if factor == 1:
        return inner
    return Out(f"{inner.paren()} * {factor}", inner.labels, atomic=False, counter=True)


def default_zero(gen: Generator, node: ast.Call, env: Env) -> Out:
    inner = arg(gen, node, 0, env)
    labels = inner.labels or ()
    q = inner.metric
    if q is not None or (env.target == "dashboard" and not labels):
        return gen.zero_fill(inner, q, gen.resolved[id(q)] if q is not None else None,
                             gen.scope_matchers(q, env) if q is not None else [], env, labels)
    # an expression of several queries: 0 where it had a value within the window
    lookback = "$__range" if env.target == "dashboard" else env.range_window
    presence = f"0 * group{by_clause(labels)}(last_over_time(({inner.text})[{lookback}:{env.step}]))"
    return Out(f"{inner.paren()} or {presence}", labels, atomic=False, counter=inner.counter)


def top(gen: Generator, node: ast.Call, env: Env, direction: str, n: int | None = None,
        ranker: str | None = None) -> Out:
    inner = arg(gen, node, 0, env)
    args = node.args
    if n is None:
        count = arg_number(args, 1) or 10
        if not 1 <= count <= 10000:
            raise Unsupported(f"{node.name}() with a limit of {count:g} series is out of range.")
        n = int(count)
        ranker = arg_word(args, 2) or "mean"
        order = arg_word(args, 3) or ("desc" if direction == "top" else "asc")
        direction = "top" if order == "desc" else "bottom"
    fn = _RANKERS.get(ranker or "mean")
    if fn is None:
        raise Unsupported(f"Ranking by '{ranker}' has no PromQL equivalent.")
    if ranker in ("norm", "l2norm", "area"):
        gen.note(f"Ranking by '{ranker}' is approximated by the sum over the window.")
    k = "topk" if direction == "top" else "bottomk"
    at = " @ end()" if env.range_at_end else ""
    ranked = f"{fn}(({inner.text})[{env.range_window}:{env.step}]{at})"
    skip = int(arg_number(args, 4) or 0) if node.name == "top_offset" else 0
    rank = f"{k}({n}, {ranked})"
    if skip > 0:        # top_offset: the N series after the first `skip`
        rank = f"({k}({n + skip}, {ranked}) unless {k}({skip}, {ranked}))"
    return Out(f"{inner.paren()} and {rank}", inner.labels, atomic=False, counter=inner.counter)


def top_call(gen: Generator, node: ast.Call, env: Env) -> Out:
    return top(gen, node, env, "top" if node.name == "top_offset" else node.name)


def cutoff(gen: Generator, node: ast.Call, env: Env) -> Out:
    inner = arg(gen, node, 0, env)
    limit = arg_number(node.args, 1)
    if limit is None:
        raise Unsupported(f"{node.name}() needs a threshold.")
    op = ">=" if node.name == "cutoff_min" else "<="
    return Out(f"{inner.paren()} {op} {fmt_number(limit)}", inner.labels, atomic=False, counter=inner.counter)


def count_series(gen: Generator, node: ast.Call, env: Env) -> Out:
    inner = arg(gen, node, 0, env)
    if node.name == "count_not_null":
        return Out(f"count({inner.text})", (), atomic=True)
    # `!= 0` filters: with every series at 0, count() would be empty, where Datadog counts 0
    return Out(f"count({inner.paren()} != 0) or count({inner.text}) * 0", (), atomic=False)


def exclude_null(gen: Generator, node: ast.Call, env: Env) -> Out:
    probe = arg(gen, node, 0, env)
    extra = tuple((g, "!=", "") for g in probe.labels or ())
    return arg(gen, node, 0, replace(env, extra_matchers=env.extra_matchers + extra))


def over_window(gen: Generator, node: ast.Call, env: Env, fn: str, window: str, step: str) -> Out:
    inner = arg(gen, node, 0, env)
    return Out(f"{fn}(({inner.text})[{window}:{step}])", inner.labels, counter=inner.counter)


def moving_rollup(gen: Generator, node: ast.Call, env: Env) -> Out:
    seconds = arg_number(node.args, 1)
    method = arg_word(node.args, 2) or "avg"
    if seconds is None or method not in OVER_TIME:
        raise Unsupported("moving_rollup() needs a window in seconds and avg/sum/min/max/count.")
    return over_window(gen, node, env, OVER_TIME[method], fmt_duration(seconds), env.step)


def smoothing(gen: Generator, node: ast.Call, env: Env) -> Out:
    kind, _, n = node.name.partition("_")
    points = int(n)
    what = "moving average" if kind == "ewma" else "moving median"
    gen.note(f"{node.name}() over {points} points is approximated by a {what} over {points} minutes "
              "(points assumed 1 minute apart).")
    fn = "avg_over_time" if kind == "ewma" else "quantile_over_time"
    inner = arg(gen, node, 0, env)
    body = f"(({inner.text})[{fmt_duration(points * 60)}:1m])"
    text = f"quantile_over_time(0.5, {body[1:-1]})" if kind == "median" else f"{fn}{body}"
    return Out(text, inner.labels, counter=inner.counter)


def diff(gen: Generator, node: ast.Call, env: Env) -> Out:
    """Datadog runs diff() between time and space aggregation: per series,
    when the argument is a metric query."""
    step = duration_seconds(env.step)
    monotonic = node.name == "monotonic_diff"
    gen.note(f"{node.name}() is the difference with the value {fmt_duration(step)} earlier "
              "(Datadog: the previous point)" + (", negative steps counted as 0." if monotonic else "."))
    return _delta(gen, node, env, step, monotonic)


def _delta(gen: Generator, node: ast.Call, env: Env, step: int, monotonic: bool) -> Out:
    """The argument minus itself ``step`` seconds earlier, per series for a
    metric query (also one named in a formula: ``diff(query1)``)."""
    target = node.args[0] if node.args else None
    if isinstance(target, ast.Name) and isinstance(gen.names.get(target.name), ast.MetricQuery):
        target = gen.names[target.name]
    if isinstance(target, ast.MetricQuery):
        return gen.gen(target, replace(env, diff_seconds=step, diff_monotonic=monotonic))
    inner = arg(gen, node, 0, env)
    prev = arg(gen, node, 0, replace(env, offset=env.offset + step))
    text = f"{inner.paren()} - {prev.paren()}"
    return Out(f"clamp_min({text}, 0)" if monotonic else text, inner.labels, atomic=monotonic)


def derivative(gen: Generator, node: ast.Call, env: Env) -> Out:
    """Datadog's derivative is diff/dt: the difference with the previous
    point per second. (PromQL's deriv() over a subquery of one step holds a
    single point at most evaluation times and returns nothing.)"""
    step = duration_seconds(env.step)
    gen.note(f"{node.name}() is the difference with the value {fmt_duration(step)} earlier, divided by "
              f"{step} s (Datadog: between consecutive points).")
    inner = _delta(gen, node, env, step, False)
    return Out(f"{inner.paren()} / {step}", inner.labels, atomic=False)


def forecast(gen: Generator, node: ast.Call, env: Env, horizon: int | None = None) -> Out:
    """forecast(q, 'linear', dev[, history=, interval=]) → predict_linear over the
    history, ``horizon`` seconds ahead (the monitor's next_N window, else 1 hour)."""
    algo = arg_word(node.args, 1) or "linear"
    if algo != "linear":
        raise Unsupported(f"forecast() with the '{algo}' algorithm has no PromQL equivalent.")
    inner = arg(gen, node, 0, env)
    history = period_seconds(kwarg(node.args, "history")) or 7 * 86400
    step = period_seconds(kwarg(node.args, "interval"))
    step_text = fmt_duration(step) if step else env.step
    ahead = horizon or 3600
    gen.note(f"forecast('linear') is predict_linear over the last {fmt_duration(history)}, "
              f"{fmt_duration(ahead)} ahead; Datadog's deviation bounds are not reproduced.")
    return Out(f"predict_linear(({inner.text})[{fmt_duration(history)}:{step_text}], {ahead})", inner.labels)


def rollup_fn(gen: Generator, node: ast.Call, env: Env) -> Out:
    """Formula form ``rollup(query1, 'max', 60)``: the query's own rollup."""
    target = node.args[0] if node.args else None
    if isinstance(target, ast.Name) and target.name in gen.names:
        target = gen.names[target.name]
    if isinstance(target, ast.MetricQuery):
        mods = [m for m in target.modifiers if m.name != "rollup"]
        mods.append(ast.Modifier("rollup", list(node.args[1:]), node.pos))
        return gen.metric_query(replace(target, modifiers=mods), env)
    method = arg_word(node.args, 1) or "avg"
    seconds = arg_number(node.args, 2)
    if method not in OVER_TIME:
        raise Unsupported(f"rollup() with '{method}' has no PromQL equivalent.")
    win = fmt_duration(seconds) if seconds else env.count_window
    return over_window(gen, node, env, OVER_TIME[method], win, env.step)


def calendar_shift(gen: Generator, node: ast.Call, env: Env) -> Out:
    shift = arg_word(node.args, 1) or ""
    m = re.fullmatch(r"-(\d+)([mhdw]|mo)", shift.strip())
    if not m:
        raise Unsupported(f"calendar_shift() by '{shift}' is not a shift into the past PromQL can express.")
    n, unit = int(m.group(1)), m.group(2)
    seconds = n * (MONTH_SECONDS if unit == "mo" else dict(UNITS)[unit])
    if unit == "mo":
        gen.note("calendar_shift() by months is read as 28 days per month.")
    return arg(gen, node, 0, replace(env, offset=env.offset + seconds))


_RANKERS = {"mean": "avg_over_time", "avg": "avg_over_time", "max": "max_over_time", "min": "min_over_time",
            "last": "last_over_time", "sum": "sum_over_time", "area": "sum_over_time", "norm": "sum_over_time",
            "l2norm": "sum_over_time"}
_SHIFTS = {"hour_before": 3600, "day_before": 86400, "week_before": 604800, "month_before": MONTH_SECONDS}
_TOP_FAMILY = re.compile(r"^(top|bottom)(\d+)_?(mean|min|max|last|area|l2norm|norm)?$")
_UNSUPPORTED = {
    "anomalies": "Datadog's anomaly models (basic/agile/robust) have no Prometheus counterpart.",
    "outliers": "outlier detection across groups (DBSCAN/MAD) has no Prometheus counterpart.",
    "robust_trend": "a Huber-loss regression is not available in PromQL.",
    "trend_line": "a least-squares line over the graph is not available in PromQL.",
    "piecewise_constant": "segmentation into constant pieces is not available in PromQL.",
    "autosmooth": "the automatic smoothing window is chosen by Datadog per graph.",
    "cumsum": "a cumulative sum from the start of the graph has no PromQL counterpart.",
    "integral": "a cumulative integral from the start of the graph has no PromQL counterpart.",
    "dt": "the time between points is not exposed by PromQL.",
    "reduce": "reducing a series to one value over the graph's time frame is done by the widget, not PromQL.",
}


def _simple(fn: str, numbers: int = 0, domain: str = "") -> Callable:
    """A PromQL function of the query and ``numbers`` constant arguments.
    ``domain`` (``> 0`` for logarithms) drops the values outside it first:
    Datadog reads a non-finite result (log of 0 or less) as null, where PromQL
    gives -Inf or NaN, and -Inf passes a `< threshold` alert."""
    def handler(gen: Generator, node: ast.Call, env: Env) -> Out:
        values = [arg_number(node.args, i) for i in range(1, len(node.args))]
        if len(values) != numbers or None in values:
            raise QuerySyntaxError(f"{node.name}() takes a query and {numbers} number(s)", node.pos)
        inner = arg(gen, node, 0, env)
        extra = "".join(f", {fmt_number(v)}" for v in values if v is not None)
        body = f"{inner.paren()} {domain}" if domain else inner.text
        return Out(f"{fn}({body}{extra})", inner.labels, counter=inner.counter)
    return handler


_FUNCTIONS: dict[str, Callable] = {
    "abs": _simple("abs"), "log2": _simple("log2", domain="> 0"), "log10": _simple("log10", domain="> 0"),
    "clamp_min": _simple("clamp_min", 1), "clamp_max": _simple("clamp_max", 1),
    "hour_before": timeshift, "day_before": timeshift, "week_before": timeshift,
    "month_before": timeshift, "timeshift": timeshift,
    "per_second": per_unit, "per_minute": per_unit, "per_hour": per_unit,
    "default_zero": default_zero,
    "top": top_call, "bottom": top_call, "top_offset": top_call,
    "cutoff_min": cutoff, "cutoff_max": cutoff,
    "count_nonzero": count_series, "count_nonzero_finite": count_series, "count_not_null": count_series,
    "exclude_null": exclude_null,
    "moving_rollup": moving_rollup,
    "diff": diff, "derivative": derivative, "monotonic_diff": diff,
    "forecast": forecast,
    "rollup": rollup_fn, "calendar_shift": calendar_shift,
}
for _n in (3, 5, 7, 9):
    _FUNCTIONS[f"median_{_n}"] = smoothing
for _n in (3, 5, 10, 20):
    _FUNCTIONS[f"ewma_{_n}"] = smoothing


def kwarg(args: list, name: str) -> str | None:
    for a in args:
        if isinstance(a, ast.Keyword) and a.name == name:
            v = a.value
            return v.value if isinstance(v, ast.String) else v.text if isinstance(v, ast.Number) else None
    return None


def period_seconds(text: str | None) -> int | None:
    """'60m', '1w', '1mo' or seconds → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+)(mo|[smhdw])?", text.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2) or "s"
    return n * (MONTH_SECONDS if unit == "mo" else dict(UNITS)[unit])


def arg_word(args: list, i: int) -> str | None:
    a = args[i] if len(args) > i else None
    return a.value if isinstance(a, ast.String) else a.name if isinstance(a, ast.Name) else None


def arg_number(args: list, i: int) -> float | None:
    a = args[i] if len(args) > i else None
    if isinstance(a, ast.Number):
        return a.value
    try:
        return float(a.value) if isinstance(a, ast.String) else None
    except ValueError:
        return None
