"""Property-based tests over the query transpiler: for any text, the only
outcomes are a translation whose PromQL parses, or a per-query error/unsupported
result. Never an exception escaping, never invalid PromQL."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dd2prom.convert.queries import TranslateContext, translate, translate_formula
from dd2prom.model import Status
from dd2prom.validate.promql import promql_error

SEEDS = [
    "avg:system.cpu.user{env:prod} by {host}",
    "sum:kubernetes.cpu.usage.total{kube_namespace:web-*,!pod_name:debug} by {pod_name}.rollup(avg, 60)",
    "avg(last_5m):avg:system.load.1{*} by {host} > 4",
    "sum(last_1h):sum:trace.http.request.errors{service:api}.as_count() / sum:trace.http.request.hits{service:api}.as_count() > 0.05",
    "pct_change(avg(last_5m),last_1h):avg:nginx.net.request_per_s{*} > 50",
    "top(avg:docker.mem.rss{*} by {container_name}, 10, 'mean', 'desc')",
    "week_before(default_zero(sum:redis.net.clients{env:prod OR env:staging}))",
    '"http.can_connect".over("instance:superset").by("host").last(3).count_by_status()',
    "p95:http.request.duration{$env} by {service}",
    "avg:kubernetes_state.container.restarts{kube_cluster_name IN (a,b) AND NOT kube_namespace:kube-system}.fill(zero)",
]

TOKENS = st.sampled_from(list("avgsumaxinp9:.{}(),*!-_ $\"'<>=/+|\\\n\t") + ["by", " OR ", " AND ", "last_5m", "rollup", "as_count()", "{{", "}}", "é", "\u0000"])


def token_text(max_tokens: int, min_tokens: int = 0):
    return st.lists(TOKENS, min_size=min_tokens, max_size=max_tokens).map("".join)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(result) -> None:
    assert result.status in set(Status)
    if result.promql is not None:
        assert promql_error(result.promql) is None, (result.query, result.promql)
    json.dumps(result.to_json())


@FUZZ
@given(token_text(60), st.booleans())
def test_random_text_never_raises(text, monitor):
    _check(translate(text, monitor=monitor, ctx=TranslateContext(target="monitor" if monitor else "plain")))


@st.composite
def mutated(draw):
    seed = draw(st.sampled_from(SEEDS))
    ops = draw(st.lists(st.tuples(st.integers(0, len(seed)), st.sampled_from(["del", "ins", "dup"]),
                                  token_text(3, 1)), max_size=4))
    s = seed
    for pos, op, txt in ops:
        pos = min(pos, len(s))
        if op == "del":
            s = s[:pos] + s[pos + 1:]
        elif op == "ins":
            s = s[:pos] + txt + s[pos:]
        else:
            s = s[:pos] + s[pos:pos + 8] + s[pos:]
    return s


@FUZZ
@given(mutated(), st.sampled_from(["plain", "monitor", "dashboard"]))
def test_mutated_queries_never_raise(query, target):
    _check(translate(query, monitor=target == "monitor", ctx=TranslateContext(target=target)))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("query12+-*/() .0abs,")), max_size=40), st.lists(mutated(), min_size=1, max_size=3))
def test_formulas_never_raise(formula, queries):
    _check(translate_formula(formula, {f"query{i + 1}": q for i, q in enumerate(queries)},
                             ctx=TranslateContext(target="dashboard")))


@FUZZ
@given(st.text(min_size=1, max_size=30))
def test_tag_values_keep_literal_meaning(value):
    """A tag value with quotes, backslashes, newlines or regex metacharacters
    must become a matcher that matches exactly that value (or an explicit error)."""
    q = "avg:system.cpu.user{env:" + value.replace("}", "").replace(",", "") + "}"
    _check(translate(q))
