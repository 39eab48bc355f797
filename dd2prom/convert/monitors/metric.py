"""Metric and query alerts (thresholds, change/pct_change, forecast, anomalies, outliers).

The transpiler translates the monitor query (``time_agg(last_5m):expr > 90``)
into the value expression with the window applied. When it cannot (the
functions below are models, not queries), forecast/anomalies/outliers get the
closest honest approximation built here from the translated inner query, with
the status and a sentence saying what differs.
"""

from __future__ import annotations

import re

from dd2prom.convert.monitors.base import Alerting, NotConverted
from dd2prom.convert.monitors.rules import INPUT_METRIC, duration, selector
from dd2prom.convert.queries import translate
from dd2prom.model import Status

HEAD_RE = re.compile(r"^\s*(\w+)\(\s*(last|next)_(\d+)(mo|[smhdw])\s*\)\s*:\s*(.*?)\s*(>=|<=|==|!=|>|<)\s*(-?[\d.]+(?:e[+-]?\d+)?)\s*$",
                     re.DOTALL | re.IGNORECASE)
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 30 * 86400}
PERIOD_RE = re.compile(r"^(?:last_|next_)?(\d+)\s*(mo|[smhdw])$")


def period_seconds(text: str | None, default: int = 0) -> int:
    if text is None:
        return default
    text = str(text).strip().strip("'\"")
    if text.isdigit():
        return int(text)
    m = PERIOD_RE.match(text)
    return int(m.group(1)) * UNIT[m.group(2)] if m else default


_SEPARATORS = re.compile(r"""['"(){}\[\],]""")   # what split_call looks at (anything else is text)
_KEYWORD = re.compile(r"^\w+\s*=")


def split_call(text: str, name: str) -> tuple[list[str], dict[str, str]] | None:
    """Arguments of ``name(...)`` when ``text`` is exactly that call."""
    text = text.strip()
    if not text.startswith(name + "(") or not text.endswith(")"):
        return None
    inside, depth, args, start, quote = text[len(name) + 1:-1], 0, [], 0, ""
    for m in _SEPARATORS.finditer(inside):
        ch = m.group()
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:   # a comma between arguments
            args.append(inside[start:m.start()].strip())
            start = m.end()
    args.append(inside[start:].strip())
    positional = [a for a in args if not _KEYWORD.match(a)]
    keywords = {k.strip(): v.strip().strip("'\"") for k, v in (a.split("=", 1) for a in args if _KEYWORD.match(a))}
    return positional, keywords


def convert(spec, ctx) -> Alerting:
    # the monitor form split by hand: only for the models (forecast first, or
    # a query the transpiler does not translate); a slow pattern on every query
    head = HEAD_RE.match(spec.query) if "forecast(" in spec.query else None
    forecast = head and split_call(head.group(5), "forecast")
    if forecast:  # the horizon (next_2w) and history='…' belong to the monitor, not the query
        return _forecast(spec, ctx, head, *forecast)
    # (the memo's own translation: only read here, its lists copied into the Alerting)
    tr = translate(spec.query, monitor=True, ctx=ctx.translate_context("monitor", offset_seconds=evaluation_delay(spec),
                                                                        copy_results=False))
    if tr.ok and tr.monitor is not None:
        m = tr.monitor
        return Alerting(expr=m.expr, comparator=m.comparator, group=list(tr.group_by),
                        window_seconds=m.window_seconds, status=tr.status, notes=list(tr.notes),
                        metrics=list(tr.metrics), prom_metrics=list(tr.prom_metrics), query_threshold=m.threshold)
    head = head or HEAD_RE.match(spec.query)
    if head:
        left = head.group(5)
        for name, builder in (("anomalies", _anomalies), ("outliers", _outliers)):
            call = split_call(left, name)
            if call:
                return builder(spec, ctx, head, *call)
    status = tr.status if tr.status in (Status.ERROR, Status.UNSUPPORTED, Status.MANUAL) else Status.MANUAL
    reason = tr.error or "; ".join(tr.notes) or "The query could not be translated."
    raise NotConverted(status, f"Query not translated: {reason}", list(tr.notes))


def evaluation_delay(spec) -> int:
    """Datadog's ``evaluation_delay`` (seconds): the query is evaluated on data
    this old. Carried over exactly as ``offset`` on every selector."""
    delay = spec.window_minutes_option("evaluation_delay")
    return int(delay) if delay and delay > 0 else 0


def _inner(spec, ctx, query: str, what: str):
    tr = translate(query, ctx=ctx.translate_context("plain", offset_seconds=evaluation_delay(spec)))
    if not tr.ok:
        raise NotConverted(Status.MANUAL, f"{what}: the inner query is not translated: "
                           + (tr.error or "; ".join(tr.notes) or "unknown reason"), list(tr.notes))
    return tr


def _anomalies(spec, ctx, head, args, kw) -> Alerting:
    if len(args) < 3:
        raise NotConverted(Status.ERROR, "anomalies() needs a query, an algorithm and a bound.")
    tr = _inner(spec, ctx, args[0], "anomalies()")
    algo, bound = args[1].strip("'\""), float(args[2])
    history = period_seconds(head.group(3) + head.group(4))
    windows = spec.options.get("threshold_windows") if isinstance(spec.options.get("threshold_windows"), dict) else {}
    alert_window = period_seconds(windows.get("trigger_window") or kw.get("alert_window"), 900)
    recovery_window = period_seconds(windows.get("recovery_window"), 0)
    inp = selector(spec.ref, INPUT_METRIC)
    z = (f"({inp} - avg_over_time({inp}[{duration(history)}])) "
         f"/ stddev_over_time({inp}[{duration(history)}])")
    direction = kw.get("direction", "both")
    expr = {"above": z, "below": f"-1 * ({z})"}.get(direction, f"abs({z})")
    notes = list(tr.notes) + [
        f"anomalies({algo!r}, {bound:g}) is approximated by a z-score: the value is anomalous when it is more "
        f"than {bound:g} standard deviations {'above' if direction == 'above' else 'below' if direction == 'below' else 'away from'} its mean over "
        f"the last {duration(history)} (the query is recorded as {INPUT_METRIC}, so the history builds up "
        f"after deployment); the alert needs the condition for the thresholds' fraction of "
        f"{duration(alert_window)} (the original query is in the dd_query annotation)."]
    status = Status.APPROXIMATE
    if algo != "basic" or kw.get("seasonality"):
        notes.append(f"The {algo!r} algorithm models {kw.get('seasonality', 'seasonal')} seasonality, which a "
                     "z-score ignores: review the rule before relying on it.")
        status = Status.MANUAL
    return Alerting(expr=expr, comparator=">", group=list(tr.group_by), window_seconds=history, status=status,
                    notes=notes, metrics=list(tr.metrics), prom_metrics=list(tr.prom_metrics),
                    fraction_window=alert_window, bound=bound, testable=False, input_expr=tr.promql,
                    recovery_window=recovery_window)


def _forecast(spec, ctx, head, args, kw) -> Alerting:
    algo = args[1].strip("'\"") if len(args) > 1 else ""
    if algo != "linear":
        raise NotConverted(Status.MANUAL, f"forecast({algo!r}): only linear forecasts have a PromQL "
                           "counterpart (predict_linear); rebuild this one by hand.")
    tr = _inner(spec, ctx, args[0], "forecast()")
    horizon = period_seconds(head.group(3) + head.group(4))
    history = period_seconds(kw.get("history"), 7 * 86400)
    expr = f"predict_linear({selector(spec.ref, INPUT_METRIC)}[{duration(history)}], {horizon})"
    notes = list(tr.notes) + [
        f"forecast('linear') is predict_linear over the last {duration(history)} of the query (recorded as "
        f"{INPUT_METRIC}, so the history builds up after deployment), "
        f"evaluated {duration(horizon)} ahead: the line's extreme over the horizon; Datadog's "
        f"{args[2] if len(args) > 2 else ''} deviation band is not applied."]
    return Alerting(expr=expr, comparator=head.group(6), group=list(tr.group_by), window_seconds=history,
                    status=Status.APPROXIMATE, notes=notes, metrics=list(tr.metrics),
                    prom_metrics=list(tr.prom_metrics), query_threshold=float(head.group(7)), input_expr=tr.promql)


def _outliers(spec, ctx, head, args, kw) -> Alerting:
    tr = _inner(spec, ctx, args[0], "outliers()")
    algo = args[1].strip("'\"") if len(args) > 1 else "dbscan"
    tolerance = float(args[2]) if len(args) > 2 else 3.0
    q = tr.promql
    expr = f"abs(({q}) - on() group_left avg({q})) / on() group_left stddev({q})"
    notes = list(tr.notes) + [
        f"outliers({algo!r}, {tolerance:g}) is approximated by a z-score across groups: a group is an outlier "
        f"when it is more than {tolerance:g} standard deviations from the groups' mean; review the tolerance."]
    return Alerting(expr=expr, comparator=">", group=list(tr.group_by), window_seconds=0, status=Status.MANUAL,
                    notes=notes, metrics=list(tr.metrics), prom_metrics=list(tr.prom_metrics),
                    critical=tolerance, warning=None, testable=False, no_data=False)
