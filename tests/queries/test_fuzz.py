"""Robustness: no input makes the transpiler raise; whatever it returns is a
Translation whose PromQL (if any) parses."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dd2prom.convert.queries import TranslateContext, translate, translate_formula
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error

_PIECES = ["avg:", "sum:", "p95:", "count:", "system.load.1", "my.metric", "{", "}", "*", "env:prod", ",", " OR ",
           " AND ", "NOT ", "!", "-", "host:web-*", " by ", "{host}", ".as_count()", ".as_rate()", ".rollup(",
           "sum", "60", ")", "(", ".fill(zero)", "top(", "'mean'", "'desc'", "10", "week_before(", "default_zero(",
           " / ", " * ", " + ", "avg(last_5m):", "change(avg(last_5m),last_1h):", " > ", "90", "$env", "IN ",
           "(a,b)", "query1", "\"", "'", "\\", ".", ":", "abs(", "anomalies(", "forecast(", "p99.9:", "1e9"]

_CTX = [TranslateContext(), TranslateContext(target="dashboard"), TranslateContext(target="monitor")]


def _check(result) -> None:
    assert result.status in tuple(Status)
    if result.promql is not None:
        assert promql_error(result.promql) is None, result.promql
    if result.status == Status.ERROR:
        assert result.promql is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.integers(0, 2), st.booleans())
def test_token_soup_never_raises(pieces: list[str], ctx: int, monitor: bool) -> None:
    _check(translate("".join(pieces), monitor=monitor, ctx=_CTX[ctx]))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.booleans())
def test_any_text_never_raises(text: str, monitor: bool) -> None:
    _check(translate(text, monitor=monitor))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=8), st.lists(st.sampled_from(_PIECES), max_size=8))
def test_formula_never_raises(formula: list[str], query: list[str]) -> None:
    _check(translate_formula("".join(formula), {"query1": "".join(query)}))


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    result = translate("abs(" * 2000 + "avg:x{*}" + ")" * 2000)
    assert result.status in (Status.ERROR, Status.EXACT, Status.APPROXIMATE)


def test_non_string_input() -> None:
    assert translate(None).status == Status.ERROR  # type: ignore[arg-type]


_GOLDEN = [r["datadog"] for r in yaml.safe_load((Path(__file__).parent / "golden.yaml").read_text())
           if "queries" not in r]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_GOLDEN), st.integers(0, 400), st.sampled_from(_PIECES), st.integers(0, 2), st.booleans())
def test_mutated_golden_queries_never_raise(query: str, at: int, piece: str, ctx: int, monitor: bool) -> None:
    at = min(at, len(query))
    _check(translate(query[:at] + piece + query[at:], monitor=monitor, ctx=_CTX[ctx]))
