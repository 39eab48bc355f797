"""Entry points of the transpiler: parse, generate, validate. Nothing raises:
every input gives a :class:`Translation` (status error with a caret line for
a query that does not parse)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

from dd2prom.convert.queries import ast
from dd2prom.convert.queries import functions
from dd2prom.convert.queries.generator import Generator
from dd2prom.convert.queries.promql_text import (
    OVER_TIME, Unsupported, duration_seconds, fmt_duration, fmt_number, subquery_step,
)
from dd2prom.convert.queries.values import Env, Out
from dd2prom.convert.queries.lexer import QuerySyntaxError
from dd2prom.convert.queries.mapping import Mappings, load_mappings
from dd2prom.convert.queries.scope import parse_scope
from dd2prom.convert.queries.parser import looks_like_monitor, parse_expression, parse_expressions, parse_monitor
from dd2prom.convert.queries.types import MonitorCondition, TranslateContext, Translation
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error


def translate(query: str, *, monitor: bool = False, ctx: TranslateContext | None = None) -> Translation:
    """One Datadog query (``monitor=True``: the monitor form ``avg(last_5m):... > 90``)."""
    return _memoised(ctx, ("query", query, monitor), lambda: _run(query, ctx, lambda gen: _translate(gen, query, monitor)))


def translate_formula(formula: str, queries: dict[str, str], *, ctx: TranslateContext | None = None) -> Translation:
    """A formulas-and-functions request: ``formula`` over named ``queries``."""
    def body(gen: Generator) -> tuple[Out, MonitorCondition | None]:
        for name, text in (queries or {}).items():
            try:
                gen.names[name] = parse_expression(str(text))
            except QuerySyntaxError as exc:
                raise QuerySyntaxError(f"in query {name}: {exc.message}", exc.pos, str(text)) from None
        return _translate(gen, formula, False)
    key = ("formula", formula, tuple((name, str(text)) for name, text in (queries or {}).items()))
    return _memoised(ctx, key, lambda: _run(formula, ctx, body))


MEMO_SIZE = 20_000   # translations kept per context family (oldest dropped first): dashboards repeat ~13k distinct queries at 2,000 dashboards


def _memoised(ctx: TranslateContext | None, what: tuple, run: Callable[[], Translation]) -> Translation:
    """``run()``, or a copy of its result for the same query in the same context
    (the result itself when ``ctx.copy_results`` is off).
    The translation depends only on the query and the context's fields other
    than ``copy_results``; the metadata and mapping tables (read-only during a run) are compared by
    identity, and kept referenced by the entry so an id is not reused while it
    is cached."""
    if ctx is None:
        return run()
    key = (what, ctx.target, ctx.default_window, ctx.window, ctx.offset_seconds, ctx.check,
           tuple(ctx.template_variables.items()), tuple(ctx.template_variable_tags.items()),
           id(ctx.metric_metadata), id(ctx.mappings))
    memo = ctx.memo
    try:
        hit = memo.get(key)
    except TypeError:   # an unhashable value somewhere: translate without the memo
        return run()
    if hit is not None and hit[0] is ctx.metric_metadata and hit[1] is ctx.mappings:
        result = hit[2]
    else:
        result = run()
        if len(memo) >= MEMO_SIZE:
            del memo[next(iter(memo))]
        memo[key] = (ctx.metric_metadata, ctx.mappings, result)
    # a translation callers may change without changing the memo's, unless they only read it
    return result.copy() if ctx.copy_results else result


def scope_conjunctions(scope: str | ast.Scope | None, *, mappings: Mappings | None = None, metric: str = "",
                       ctx: TranslateContext | None = None) -> list[list[tuple[str, str, str]]]:
    """A Datadog scope (``env:prod,!host:web-*``, ``a:1 OR (b:2 AND NOT c:3)``),
    as text or as parsed by :func:`~dd2prom.convert.queries.scope.parse_scope`,
    → a disjunction of conjunctions of ``(label, op, value)`` matchers: a series
    is selected when it matches every matcher of any one conjunction. The tag →
    label mapping, escaping, wildcards, ``host`` ports and absent-ok relaxing are
    those of :func:`translate` (``metric`` picks per-family tag labels);
    template variables outside dashboards match anything. ``[[]]`` selects every
    series. Raises :class:`QuerySyntaxError` or :class:`Unsupported` with a sentence."""
    ctx = ctx or TranslateContext()
    node = parse_scope(scope, 0) if isinstance(scope, str) else scope
    if node is None:
        return [[]]
    if mappings is None:
        mappings = ctx.mappings if ctx.mappings is not None else load_mappings(None)
    gen = Generator(ctx=ctx, mappings=mappings)
    return gen._dnf(node, False, metric, _env(ctx))


def _run(query: str, ctx: TranslateContext | None, body) -> Translation:
    ctx = ctx or TranslateContext()
    if not isinstance(query, str) or not query.strip():
        return Translation(query=str(query), promql=None, status=Status.ERROR,
                           notes=["The query is empty."], error="empty query")
    try:
        mappings = ctx.mappings if ctx.mappings is not None else load_mappings(None)
    except Exception as exc:  # a broken user mapping file is a per-query error, not a crash
        return Translation(query=query, promql=None, status=Status.ERROR, notes=[f"Mapping tables: {exc}"],
                           error=str(exc))
    gen = Generator(ctx=ctx, mappings=mappings)
    result = Translation(query=query, promql=None, status=Status.ERROR)
    try:
        out, cond = body(gen)
    except QuerySyntaxError as exc:
        result.error = exc.render(query)
        result.notes = [f"The query does not parse: {exc.message} at position {exc.pos}."]
        return result
    except Unsupported as exc:
        gen.note(str(exc), Status.UNSUPPORTED)
        gen.notes.append(f"Original query: {query}")
        _fill(result, gen)
        return result
    except RecursionError:
        result.error = "the query is nested too deeply"
        result.notes = ["The query is nested too deeply to translate."]
        return result
    except Exception as exc:  # the contract: no exception escapes
        result.error = f"internal error: {exc.__class__.__name__}: {exc}"
        result.notes = [f"Translation failed with an internal error ({exc.__class__.__name__})."]
        return result
    _fill(result, gen)
    promql = cond.expr if cond is not None and cond.comparator is None else out.text
    if cond is not None and cond.comparator is not None:
        promql = f"{cond.expr} {cond.comparator} {fmt_number(cond.threshold)}"
    problem = promql_error(promql) if ctx.check else None
    if problem is not None:
        result.status = Status.ERROR
        result.error = f"generated PromQL does not parse: {problem}"
        result.notes.append("The translation produced invalid PromQL; this is a transpiler bug.")
        return result
    result.promql = promql
    result.group_by = list(out.labels or ())
    result.monitor = cond
    if gen.status in (Status.UNSUPPORTED,):
        result.promql = None
    if result.status != Status.EXACT and f"Original query: {query}" not in result.notes:
        result.notes.append(f"Original query: {query}")
    return result


def _fill(result: Translation, gen: Generator) -> None:
    result.status = gen.status
    result.notes = list(gen.notes)
    result.metrics = list(gen.metrics)
    result.prom_metrics = [m for m in gen.prom_metrics if m]
    result.labels = list(gen.labels)
    result.unmapped_metrics = list(gen.unmapped)


def _env(ctx: TranslateContext, monitor_seconds: int | None = None) -> Env:
    if ctx.target == "dashboard" and monitor_seconds is None:
        return _dashboard_env(ctx.offset_seconds)
    if monitor_seconds is not None:
        window = ctx.window or fmt_duration(monitor_seconds)
    else:
        window = ctx.window or ctx.default_window
    return Env(ctx.target, window, window, window, step=subquery_step(duration_seconds(window)),
               offset=ctx.offset_seconds)


@functools.lru_cache(maxsize=64)
def _dashboard_env(offset: int) -> Env:
    """Grafana's windows (one Env, frozen, shared by every dashboard query)."""
    return Env("dashboard", "$__rate_interval", "$__interval", "$__range", range_at_end=True,
               step="$__interval", offset=offset)


def _translate(gen: Generator, query: str, monitor: bool) -> tuple[Out, MonitorCondition | None]:
    if (monitor and not query.lstrip().startswith('"')) or looks_like_monitor(query):
        mon = parse_monitor(query)
        return _monitor(gen, mon)
    nodes = parse_expressions(query)
    env = _env(gen.ctx)
    if len(nodes) == 1:
        return gen.gen(nodes[0], env), None
    # several queries on one graph: keep them apart with a `query` label
    outs = [gen.gen(n, env) for n in nodes]
    gen.note(f"The {len(nodes)} queries of this request are one expression; a label query=\"1\"..\"{len(nodes)}\" "
             "tells their series apart.", Status.EXACT)
    parts = [f'label_replace({o.text if o.labels is not None else f"vector({o.text})"}, "query", "{i}", "", "")'
             for i, o in enumerate(outs, 1)]
    labels = tuple(dict.fromkeys(lab for o in outs for lab in (o.labels or ()))) + ("query",)
    return Out(" or ".join(parts), labels, atomic=False), None


# ---------------------------------------------------------------------------- monitors
def _monitor(gen: Generator, mon: ast.Monitor) -> tuple[Out, MonitorCondition]:
    env = _env(gen.ctx, mon.window_seconds)
    window = gen.ctx.window or fmt_duration(mon.window_seconds)
    if mon.window.startswith("next_"):
        # a forecast monitor: the window is the horizon ahead, not a past window
        if not (isinstance(mon.expr, ast.Call) and mon.expr.name == "forecast"):
            raise Unsupported(f"A {mon.window} window only applies to forecast() monitors.")
        out = functions.forecast(gen, mon.expr, env, horizon=mon.window_seconds)
        gen.note(f"The condition is checked on the line's value {fmt_duration(mon.window_seconds)} ahead, not on "
                 f"its {mon.time_agg} over the whole horizon.")
    elif mon.time_agg in ("change", "pct_change"):
        out = change_expr(gen, mon, window, env)
    else:
        out = window_expr(gen, mon.expr, mon.time_agg, window, env, mon.percentile)
    expr = out.text
    if not out.atomic and any(op in expr for op in (" or ", " and ", " unless ")):
        expr = f"({expr})"   # the comparison binds tighter than or/and/unless
    cond = MonitorCondition(time_aggregation=mon.time_agg, window_seconds=mon.window_seconds,
                            expr=expr, comparator=mon.comparator, threshold=mon.threshold)
    return out, cond


def change_expr(gen: Generator, mon: ast.Monitor, window: str, env: Env) -> Out:
    """Datadog's change alert: the point-by-point difference (or percentage)
    between the series now and the series ``shift`` earlier, then the time
    aggregation of that difference over the window. For avg/sum of a change
    that equals the difference of the window aggregates (both are linear), so
    the window stays inside the series; min/max and percentages are not linear
    and take a subquery over the point-wise difference."""
    tagg = mon.inner_agg or "avg"
    shifted = replace(env, offset=env.offset + mon.shift_seconds)
    if mon.time_agg == "change" and tagg in ("avg", "sum"):
        now = window_expr(gen, mon.expr, tagg, window, env)
        before = window_expr(gen, mon.expr, tagg, window, shifted)
        return Out(f"{now.paren()} - {before.paren()}", now.labels, atomic=False)
    inner_env = replace(env, rate_window=env.step, count_window=env.step)
    now = gen.gen(mon.expr, inner_env)
    before = gen.gen(mon.expr, replace(inner_env, offset=shifted.offset))
    if now.labels is None:         # a constant does not change
        return Out("0", None)
    if mon.time_agg == "change":
        text = f"{now.paren()} - {before.paren()}"
    else:
        text = f"({now.paren()} - {before.paren()}) / ({before.paren()} != 0) * 100"
        gen.note(f"pct_change: points whose value {fmt_duration(mon.shift_seconds)} earlier is 0 are left out "
                 "(the percentage is undefined there; Prometheus would give +Inf and fire).")
    if now.counter:
        gen.note(f"The {tagg} of the change over the window is taken over {env.step} intervals of the counter; "
                 "Datadog's monitor rollup interval may differ.")
    fn = "quantile_over_time(0.5, " if tagg == "median" else OVER_TIME.get(tagg, "avg_over_time") + "("
    return Out(f"{fn}({text})[{window}:{env.step}])", now.labels)


def window_expr(gen: Generator, node: ast.Expr, tagg: str, window: str, env: Env,
                percentile: float | None = None) -> Out:
    """``node`` aggregated over the monitor window with ``tagg``. The window
    goes into the series (rate/increase/*_over_time) where that gives the same
    value, otherwise into a subquery over the whole expression."""
    if isinstance(node, ast.Number):
        return gen.gen(node, env)
    if tagg == "last":
        # the last point of the window: for a counter, the count (or rate) of the last interval only
        out = gen.gen(node, replace(env, rate_window=env.step, count_window=env.step))
        if out.counter:
            gen.note(f"The last point of the counter is its {env.step} interval; Datadog's monitor rollup "
                     "interval may differ.")
        return out
    if isinstance(node, ast.MetricQuery) and _pushable(gen, node, tagg):
        return gen.gen(node, replace(env, time_fn=tagg, time_window=window))
    if isinstance(node, ast.Call) and node.name == "default_zero" and node.args:
        inner = window_expr(gen, node.args[0], tagg, window, env)
        if not inner.labels and inner.metric is not None:
            # 0 when the window holds points but the aggregate has none (no effect on an empty window)
            q = inner.metric
            return gen.zero_fill(inner, q, gen.resolved[id(q)], gen.scope_matchers(q, env), env, ())
    if isinstance(node, ast.BinOp) and tagg in ("sum", "avg", "min", "max") and _has_as_count(node):
        # Datadog's as_count evaluation path: with arithmetic and at least one
        # .as_count(), the time aggregation applies to each query before the arithmetic
        return gen.binop(node.op, window_expr(gen, node.left, tagg, window, env),
                         window_expr(gen, node.right, tagg, window, env))
    inner_env = replace(env, rate_window=env.step, count_window=env.step)
    inner = gen.gen(node, inner_env)
    if inner.labels is None:      # a constant is the same over any window
        return inner
    if tagg == "percentile":
        fn = f"quantile_over_time({fmt_number(percentile if percentile is not None else 0.5)}, "
    elif tagg == "median":
        fn = "quantile_over_time(0.5, "
    else:
        fn = OVER_TIME[tagg] + "("
    if tagg in ("sum", "count") and not inner.counter:
        gen.note(f"The {tagg} over the window counts one value per {env.step}; Datadog counts its monitor rollup "
                 "points, whose interval may differ.")
    if inner.counter and tagg != "sum":
        gen.note(f"The {tagg} over the window is taken over {inner_env.count_window} intervals of the counter; "
                 "Datadog's monitor rollup interval may differ.")
    return Out(f"{fn}({inner.text})[{window}:{env.step}])", inner.labels, counter=inner.counter)


def _pushable(gen: Generator, q: ast.MetricQuery, tagg: str) -> bool:
    """Whether ``tagg`` over the window can be applied per series before the
    space aggregation without changing the value."""
    if any(m.name in ("rollup",) for m in q.modifiers):
        return False
    from dd2prom.convert.queries.mapping import prom_metric_for
    from dd2prom.convert.queries.parser import percentile_of
    info = prom_metric_for(gen.mappings, q.metric, gen.ctx.metric_metadata.get(q.metric), gen.ctx.metric_metadata)
    space = q.aggregator or "avg"
    if info.prom_type in ("histogram", "summary") or info.dd_type == "distribution" or percentile_of(space):
        # percentile(last_5m):p95:x is the 95th percentile of every value in the window
        return tagg in ("avg", "sum") or (tagg == "percentile" and percentile_of(space) is not None)
    counter = (info.prom_type == "counter" and info.dd_type != "gauge") or (not info.mapped and any(
        m.name in ("as_count", "as_rate") for m in q.modifiers))
    if info.template is not None:
        return tagg == "avg" and "[$W]" in info.template and space in ("avg", "sum")
    if counter:
        as_count = any(m.name == "as_count" for m in q.modifiers) or (
            info.dd_type == "count" and not any(m.name == "as_rate" for m in q.modifiers))
        if as_count:
            return tagg == "sum" and space == "sum"
        return tagg == "avg" and space in ("avg", "sum")
    if tagg == space and tagg in ("min", "max"):
        return True
    return tagg == "avg" and space in ("avg", "sum")


def _has_as_count(node: ast.Expr) -> bool:
    if isinstance(node, ast.BinOp):
        return _has_as_count(node.left) or _has_as_count(node.right)
    if isinstance(node, ast.Neg):
        return _has_as_count(node.operand)
    if isinstance(node, ast.MetricQuery):
        return any(m.name == "as_count" for m in node.modifiers)
    return False
