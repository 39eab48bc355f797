"""Widget requests → PromQL targets.

A Datadog widget has one or more *requests*. A request is either classic
(``q``: one query, or several separated by commas) or formulas-and-functions
(named ``queries`` + ``formulas`` over those names, with ``alias``,
``limit``, ``number_format`` per formula and an ``aggregator`` per query when
the widget shows one number per series). Each shown formula or classic query
becomes one :class:`Series`: a Grafana target with its PromQL.

Three shapes, chosen by the widget converter:

* ``range``   — graphs: range queries, one point per ``$__interval``.
* ``reduce``  — one number per series from a range query, reduced by Grafana
  (``reduceOptions.calcs``) the way Datadog's aggregator reduces it (query
  values; those with a formula over several queries use ``instant``).
* ``instant`` — tables, top lists, pies: one instant query whose value is the
  aggregator over the dashboard range, computed by Prometheus
  (``avg_over_time((expr)[$__range:$__interval])``), so Grafana joins and sorts
  real values. A formula over several queries reduces each query first, as
  Datadog computes scalar formulas (``sum(a)/sum(b)``, not a sum of ratios).

Every translation is recorded on the widget's coverage row: ``promql`` and
``queries`` (parallel lists, for the compare helper), ``untranslated`` for
what could not be carried, and the transpiler's notes.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from dd2prom.convert.dashboards.panel import DATASOURCE, WidgetContext, count, dicts, query_text
from dd2prom.convert.dashboards.units import number_format_unit
from dd2prom.convert.queries import mapping, translate, translate_formula
from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.model import Status
from dd2prom.validate.promql import is_vector_promql, promql_error

# Datadog aggregator → Grafana reducer (reduce shape) and PromQL range function (instant shape).
CALCS = {"avg": "mean", "sum": "sum", "min": "min", "max": "max", "last": "lastNotNull", "area": "sum"}
OVER_TIME = {"avg": "avg_over_time", "sum": "sum_over_time", "min": "min_over_time",
             "max": "max_over_time", "area": "sum_over_time", "last": None}


@dataclass
class Series:
    """One shown line / value / column: a Grafana target and where it came from."""

    ref_id: str
    expr: str                    # the target's PromQL (shaped: reduced, limited, sorted)
    base: str                    # the translation as it came from the transpiler
    original: str
    legend: str | None = None
    aggregator: str = "avg"
    request: dict[str, Any] = field(default_factory=dict)
    formula: dict[str, Any] = field(default_factory=dict)
    translation: Translation | None = None

    @property
    def unit(self) -> str | None:
        return number_format_unit(self.formula.get("number_format"))

    @property
    def label(self) -> str:
        """What a column or legend entry is called (alias, else the query)."""
        return str(self.formula.get("alias") or self.request.get("alias") or self.original)


class NoQuery(Exception):
    """No query of the widget could be translated (the dispatcher then shows an
    explaining text panel instead)."""

    MESSAGE = "No query of this widget could be translated to PromQL."


def translate_widget(wc: WidgetContext, shape: str, requests: Any = None, sort: bool = False,
                     minimum: int = 1) -> "RequestTranslator":
    """Translate a widget's requests (its own, or ``requests``); raises
    :class:`NoQuery` when fewer than ``minimum`` series came out."""
    rt = RequestTranslator(wc, shape, sort=sort)
    rt.run(wc.definition.get("requests") if requests is None else requests)
    if len(rt.series) < minimum:
        raise NoQuery(NoQuery.MESSAGE)
    return rt


def combines_queries(requests: Any) -> bool:
    """Whether a formula of these requests combines several queries (a scalar
    widget then reduces each query in PromQL; see :meth:`RequestTranslator._reduce_each`)."""
    for req in dicts([requests] if isinstance(requests, dict) else requests):
        names = [str(q.get("name")) for q in dicts(req.get("queries"))]
        for f in dicts(req.get("formulas")):
            if isinstance(f.get("formula"), str) and sum(_mentions(f["formula"], n) for n in names) > 1:
                return True
    return False


def label_for_tag(tctx: TranslateContext, tag: str) -> str:
    """The Prometheus label a Datadog tag key maps to (the transpiler's mapping tables)."""
    return mapping.label_for_tag(tctx.mappings, tag)


_SPLIT_CHARS = re.compile(r"[()\[\]{},]")


def split_top_level(q: str) -> list[str]:
    """Split a classic ``q`` on commas outside parentheses and braces
    (``a{x:1,y:2}, top(b, 10, 'mean', 'desc')`` → two queries)."""
    if "," not in q:   # most requests: one query, no character to walk through
        return [q.strip()] if q.strip() else []
    parts, depth, start = [], 0, 0
    for m in _SPLIT_CHARS.finditer(q):   # only the brackets and commas, not every character
        ch = m.group()
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0:
            i = m.start()
            parts.append(q[start:i])
            start = i + 1
    parts.append(q[start:])
    return [p.strip() for p in parts if p.strip()]


def ref_id(n: int) -> str:
    """The ``n``-th target's refId: A..Z, then AA..ZZ, AAA..."""
    return string.ascii_uppercase[n % 26] * (n // 26 + 1)


def _mentions(formula: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", formula) is not None


class RequestTranslator:
    """Translates every request of one widget and records the outcome."""

    def __init__(self, wc: WidgetContext, shape: str, sort: bool = False):
        self.wc = wc
        self.shape = shape
        self.sort = sort   # order instant results by value (top lists)
        self.series: list[Series] = []
        self.failed: list[tuple[str, str]] = []   # (original, reason)

    # -- entry ---------------------------------------------------------------
    def run(self, requests: Any) -> list[Series]:
        if isinstance(requests, dict):
            requests = [requests]
        for req in dicts(requests):
            self._request(req)
        self._record_failures()
        return self.series

    def _request(self, req: dict[str, Any]) -> None:
        if isinstance(req.get("queries"), list):
            self._formulas(req)
        elif isinstance(req.get("query"), dict) and req["query"].get("data_source", "metrics") == "metrics" \
                and isinstance(req["query"].get("query"), str):
            self._one(req, {}, req["query"]["query"], {}, str(req["query"].get("aggregator") or "avg"))
        elif isinstance(req.get("q"), str):
            # classic aliases: metadata [{expression, alias_name}]
            aliases = {str(m.get("expression", "")).strip(): m.get("alias_name")
                       for m in dicts(req.get("metadata")) if m.get("alias_name")}
            for q in split_top_level(req["q"]):
                alias = {"alias": aliases[q]} if q in aliases else {}
                self._one(req, alias, q, {}, str(req.get("aggregator") or "avg"))
        else:
            for key in ("log_query", "apm_query", "rum_query", "security_query", "process_query",
                        "network_query", "event_query", "audit_query", "profile_metrics_query", "query"):
                if isinstance(req.get(key), dict):
                    source = req[key].get("data_source") or key.removesuffix("_query")
                    self.failed.append((f"{key}: {query_text(req[key])}",
                                        f"it reads {source} data, which Prometheus does not hold"))
                    return
            self.failed.append((str(req)[:200], "the request has no metric query"))

    def _formulas(self, req: dict[str, Any]) -> None:
        queries = {str(q.get("name")): q for q in dicts(req["queries"])}
        formulas = dicts(req.get("formulas")) or [{"formula": name} for name in queries]
        for f in formulas:
            if not isinstance(f.get("formula"), str):
                continue
            formula = f["formula"].strip()
            used = {n: q for n, q in queries.items() if _mentions(formula, n)}
            others = [(n, q) for n, q in used.items() if (q.get("data_source") or "metrics") != "metrics"]
            if others:
                n, q = others[0]
                self.failed.append((f"{formula} ({n} = {q.get('data_source')}: {query_text(q)})",
                                    f"query {n} reads {q.get('data_source')} data, which Prometheus does not hold"))
                continue
            texts = {n: query_text(q) for n, q in used.items()}
            # each query's aggregator (scalar widgets reduce every query, then apply the formula)
            per_query = {n: str(q.get("aggregator") or "avg") for n, q in used.items()}
            self._one(req, f, formula, texts, min(per_query.values(), default="avg"), per_query)

    # -- one series ------------------------------------------------------------
    def _one(self, req: dict[str, Any], formula: dict[str, Any], text: str, queries: dict[str, str],
             aggregator: str, per_query: dict[str, str] | None = None) -> None:
        tctx = self.wc.translate_ctx
        if not queries:
            original, t = text, translate(text, ctx=tctx)
        elif len(queries) == 1 and text in queries:
            original = queries[text]
            t = translate(original, ctx=tctx)
        else:
            original = text
            for name, q in queries.items():
                original = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w.])", lambda _m, q=q: f"({q})", original)
            t = translate_formula(text, queries, ctx=tctx)
        self.wc.translations.append(t)
        if not t.ok:
            self.failed.append((original, t.error or "; ".join(t.notes) or "the transpiler could not translate it"))
            return
        for sentence in t.notes:
            self.wc.note(sentence)
        self.wc.note("", t.status)   # (the status once, not once per sentence)
        if aggregator not in CALCS:
            if self.shape != "range":
                self.wc.note(f"Aggregator {aggregator!r} has no Grafana equivalent; the average is shown.",
                             Status.APPROXIMATE)
            aggregator = "avg"
        if aggregator in ("sum", "area") and self.shape != "range" and "[$__interval]" not in (t.promql or ""):
            self.wc.note("The sum over the time range of values that are not per-interval counts depends on "
                         "how many points are summed (Grafana: one per $__interval, Datadog: one per rollup "
                         "interval).", Status.APPROXIMATE)
        reduced = self._reduce_each(t.promql or "", queries, per_query or {}) if len(queries) > 1 else None
        base = reduced or t.promql or ""
        expr = self._shape(base, aggregator, self._limit(req, formula), reduced is not None)
        # the shape only wraps the base in functions of a vector (see is_vector_promql)
        err = None if expr != base and is_vector_promql(base) else promql_error(expr)
        if err:
            self.failed.append((original, f"the generated PromQL does not parse ({err})"))
            return
        series = Series(ref_id=ref_id(len(self.series)), expr=expr, base=t.promql or "", original=original,
                        aggregator=aggregator,
                        request=req, formula=formula, translation=t)
        series.legend = self._legend(series, t)
        self.series.append(series)
        self.wc.item.extra.setdefault("promql", []).append(expr)
        self.wc.item.extra.setdefault("queries", []).append(original)

    @staticmethod
    def _limit(req: dict[str, Any], formula: dict[str, Any]) -> tuple[int, str] | None:
        """(count, order) from the formula's ``limit`` or, for a one-formula
        request, the request's ``sort`` (top lists)."""
        limit = formula.get("limit")
        if not isinstance(limit, dict) and len(dicts(req.get("formulas"))) <= 1:
            limit = req.get("sort")
        if not isinstance(limit, dict) or not count(limit.get("count")):
            return None
        order = limit.get("order")
        if order is None and dicts(limit.get("order_by")):
            order = dicts(limit["order_by"])[0].get("order")
        return limit["count"], str(order or "desc")

    def _reduce_each(self, promql: str, queries: dict[str, str], aggregators: dict[str, str]) -> str | None:
        """A formula over several queries with each query reduced over the range
        first, as Datadog computes scalar formulas (``sum(a) / sum(b)``, not the
        sum of the per-step ratios). Each query's own translation is found in the
        formula's PromQL and wrapped; None for range shapes or when a query's
        PromQL is not found as is (the formula is then reduced as a whole)."""
        if self.shape != "instant":
            return None
        wrapped: dict[str, str] = {}
        for name, query in queries.items():
            own = translate(query, ctx=self.wc.translate_ctx).promql
            aggregator = aggregators.get(name, "avg")
            if aggregator not in OVER_TIME:
                self.wc.note(f"Aggregator {aggregator!r} of query {name} has no PromQL equivalent; "
                             "the average is used.", Status.APPROXIMATE)
            fn = OVER_TIME.get(aggregator, "avg_over_time")
            reduced = f"{fn}(({own})[$__range:$__interval])" if fn else own
            # not found, or two names reading the same series with different aggregators
            if not own or own not in promql or wrapped.get(own, reduced) != reduced:
                self.wc.note("Datadog reduces each query over the time range before applying the formula; "
                             "here the formula is applied at every step, then reduced.", Status.APPROXIMATE)
                return None
            wrapped[own] = reduced
        pattern = "|".join(re.escape(p) for p in sorted(wrapped, key=len, reverse=True))
        return re.sub(pattern, lambda m: wrapped[m.group(0)], promql)

    def _shape(self, expr: str, aggregator: str, limit: tuple[int, str] | None, reduced: bool = False) -> str:
        if self.shape == "instant" and OVER_TIME[aggregator] and not reduced:
            expr = f"{OVER_TIME[aggregator]}(({expr})[$__range:$__interval])"
        order = limit[1] if limit else "desc"
        if limit:
            expr = f"{'bottomk' if order == 'asc' else 'topk'}({limit[0]}, {expr})"
            if self.shape != "instant":
                self.wc.note(f"The top {limit[0]} series are chosen at every step in Grafana, "
                             "over the whole time range in Datadog.", Status.APPROXIMATE)
        if self.sort and self.shape == "instant":
            expr = f"{'sort' if order == 'asc' else 'sort_desc'}({expr})"
        return expr

    def _legend(self, series: Series, t: Translation) -> str | None:
        alias = series.formula.get("alias") or series.request.get("alias")
        if not alias:
            return None
        labels = " ".join("{{%s}}" % label for label in t.group_by)
        return self.wc.text(f"{alias} {labels}".strip())

    def _record_failures(self) -> None:
        if not self.failed:
            return
        status = Status.UNSUPPORTED if not self.series else Status.MANUAL
        for original, reason in self.failed:
            self.wc.note(f"Query not converted: {original} — {reason.rstrip('.')}.", status)
            self.wc.item.extra.setdefault("untranslated", []).append(original)
        if self.series:
            self.wc.note(f"{len(self.failed)} of {len(self.failed) + len(self.series)} queries could not be "
                         "converted; the panel shows the others.", Status.MANUAL)

    # -- targets ---------------------------------------------------------------
    def targets(self, table: bool = False) -> list[dict[str, Any]]:
        instant = self.shape == "instant"
        out = []
        for s in self.series:
            target: dict[str, Any] = {"refId": s.ref_id, "datasource": DATASOURCE, "expr": s.expr,
                                      "editorMode": "code", "range": not instant, "instant": instant,
                                      "format": "table" if table else "time_series"}
            legend = s.legend
            if not legend and len(self.series) == 1 and s.translation and s.translation.group_by:
                # one query grouped by tags: name each series by its tag values, as Datadog
                # does, rather than by Grafana's default {label="value"}
                legend = " ".join("{{%s}}" % label for label in s.translation.group_by)
            if legend:
                target["legendFormat"] = legend
            out.append(target)
        return out

    def metrics(self) -> list[str]:
        return sorted({m for s in self.series if s.translation for m in s.translation.metrics})

    def calcs(self) -> list[str]:
        """Grafana reducers: the one value of instant queries, else Datadog's
        aggregator of the first series (reduce shape)."""
        if self.shape == "instant":
            return ["lastNotNull"]
        aggregator = self.series[0].aggregator if self.series else "avg"
        return [CALCS.get(aggregator, "mean")]
