"""Datadog monitor options and states whose meaning the conversion carries over
(each test names the Datadog behaviour it pins down)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import promql_parser
import pytest

from dd2prom.convert.monitors import metric
from dd2prom.convert.monitors.spec import MonitorSpec, option_notes
from dd2prom.convert.queries.types import TranslateContext


def spec(type_, query, message="", **options):
    return MonitorSpec.parse("7", {"id": 7, "name": "m", "type": type_, "query": query, "message": message,
                                   "options": options})


def real_ctx(**shared):
    return SimpleNamespace(shared=shared, translate_context=lambda target="plain", **kw: TranslateContext(
        target=target, **kw))


def selectors(node):
    """Every VectorSelector of a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
        return
    for attr in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from selectors(child)
    for child in getattr(node, "args", None) or []:
        yield from selectors(child)


@pytest.mark.parametrize("query", [
    "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90",
    "sum(last_10m):sum:aws.elb.httpcode_elb_5xx{*}.as_count() / sum:aws.elb.request_count{*}.as_count() > 0.05",
    "pct_change(avg(last_5m),last_1h):avg:system.load.1{*} by {host} > 50",
    "max(last_5m):default_zero(sum:trace.http.request.errors{service:web}.as_count()) > 3",
    "avg(last_4h):anomalies(avg:system.load.1{*} by {host}, 'basic', 2) >= 1",
])
def test_evaluation_delay_is_an_offset_on_every_selector(query):
    """Datadog evaluates the monitor on data `evaluation_delay` seconds old."""
    a = metric.convert(spec("query alert", query, evaluation_delay=900), real_ctx())
    expr = a.input_expr or a.expr
    found = list(selectors(promql_parser.parse(expr)))
    assert found and all(s.offset is not None and s.offset >= timedelta(minutes=15) for s in found), expr
    notes = option_notes(spec("query alert", query, evaluation_delay=900), a.window_seconds)
    assert [st for n, st in notes if "evaluation_delay" in n] == [None]


def test_no_evaluation_delay_no_offset():
    a = metric.convert(spec("query alert", "avg(last_5m):avg:system.cpu.user{*} > 90"), real_ctx())
    assert " offset " not in a.expr
