"""promql_error checks an expression by its shape (strings replaced by "x",
cached) when that cannot change the parser's answer: it must answer exactly as
parsing the expression itself does, valid or not, with the same message."""

from __future__ import annotations

from pathlib import Path

import promql_parser
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dd2prom.validate import promql


def parsed(expr: str) -> str | None:
    """The answer of parsing the expression itself (what promql_error did before shapes)."""
    probe = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
    try:
        promql_parser.parse(probe)
    except Exception as exc:
        return str(exc) or exc.__class__.__name__
    return None


def fresh(expr: str) -> str | None:
    promql._checked.cache_clear()
    return promql.promql_error(expr)


# (expression, has a shape) — each a way the strings could change the answer
CASES = [
    ('sum(rate(http_requests_total{service="checkout",env=~"prod|staging"}[5m]))', True),
    ('foo{a=~"veth.*|cali.*|lo"}', True),
    ('foo{env=~"$env"}', True),                    # a Grafana variable: a valid regex, never empty
    ('{a=~".*"}', False),                          # matches the empty string: refused alone
    ('{a=~".*", b="x"}', False),
    ('{a!~".*"}', False),
    ('{a=~"x|"}', False),                          # an empty alternative
    ('foo{a=~"("}', False),                        # an illegal regex
    ('foo{a=~"a{2,1}"}', False),
    ('{a=""}', True),                              # an empty value matches the empty string: stays empty
    ('{a!=""}', True),
    ('foo{container!="",container!="POD",namespace="a"}', True),
    ('foo{a="""b"}', True),                        # two strings side by side: refused either way
    ('{a="x"}', True),
    ('foo{a="\\q"}', False),                       # an unknown escape
    ('foo{a="\\u00e9"}', False),
    ('foo{a="x\ny"}', False),                      # a raw newline in a string
    ('foo{a="x}', False),                          # unterminated
    ('foo{a="x", b="y}', False),
    ("foo{a='x'}", False),
    ('foo{a=`x`}', False),
    ('foo{a="x"} # a comment with "quotes', False),
    ('foo{__name__="bar"}', True),                 # the metric name set twice, whatever the value
    ('{__name__=~"foo.*"}', True),
    ('label_replace(foo, "dst", "$1", "src", "(.*)")', True),
    ('count_values("code", foo)', True),
    ('foo == "x"', True),                          # a comparison with a string: refused either way
    ('foo{a="é"}', True),
    ('foo{a="\ud800"}', False),                    # a lone surrogate
    ('rate(foo{a="x"}[$__rate_interval])', True),
    ('sum by (a) (foo{a=~"x"}) / on(a) group_left bar{b!~"y|z"}', True),
    # quoted label and metric names (Prometheus 3 syntax, which the parser accepts) are compared
    # with other names, so only matcher values are replaced: names stay as written
    ('foo{"__name__"="bar"}', True),               # the metric name set twice through a quoted name
    ('foo{"__name__"=~"bar"}', True),
    ('foo{"bar"}', True),
    ('{"foo", a="b"}', True),
    ('foo{"a.b"=~"("}', False),
    ('foo / on("a") group_left(a) bar', True),     # a label in ON and GROUP at once
    ('foo / on("a") group_left("b") bar', True),
    ('sum without("a") (foo)', True),
    # the parser's regex engine refuses a regex whose compiled program is too big: `.` is the
    # costliest character (10,486 of them are refused), so only short regexes get a shape
    ('foo{a=~"%s"}' % ("." * 10486), False),
    ('foo{a=~"%s"}' % "|".join(["web-.*"] * 20000), False),
    ('foo{a=~"%s"}' % "|".join(["web-.*"] * 142), True),
    # a plain regex's matcher is written with = or != in the shape, where the operator follows a name
    # or a space; anything else before it could make a longer operator of the rewritten one
    ('foo{a!=~"b"}', True),                        # != then ~: an error, a!="x" would not be
    ('foo{a==~"b"}', True),
    ('foo{a<=~"b"}', True),
    ('foo{a!!~"b"}', True),
    ('foo{a =~ "b", c !~ "d"}', True),
    ('foo{"a"=~"b"}', True),
    ('foo =~"b"', True),                           # outside a selector: an error either way
    ('=~"b"', True),
    ('foo{a=~"b"} =~ "c"', True),
    ('foo !~ "b"', True),                          # a shape's != outside a selector: a comparison with a string
    ('{a!~"b"}', True),                            # every matcher matches the empty string: refused
    ('{a!~"b", c=~"d"}', True),
    ('foo{__name__=~"b"}', True),
]


@pytest.mark.parametrize("expr,has_shape", CASES, ids=[expr[:60] for expr, _ in CASES])
def test_same_answer_as_parsing(expr, has_shape):
    probe = expr.replace("$__rate_interval", "5m")
    assert (promql._shape(probe) is not None) == has_shape
    assert fresh(expr) == parsed(expr)


def test_shapes_are_shared():
    a = promql._shape('sum(rate(x{service="checkout",env=~"prod|staging"}[5m])) > 0.5')
    b = promql._shape('sum(rate(x{service="cart",env=~"dev"}[5m])) > 0.5')
    assert a == b == 'sum(rate(x{service="x",env="x"}[5m])) > 0.5'
    assert promql._shape('x{a =~ "b|c", d!~"e"} / y{f!=~"g"}') == 'x{a ="x", d!="x"} / y{f!=~"x"}'
    assert promql._shape('foo{"a.b"="c", "d" != "e"} / on("a") bar') == 'foo{"a.b"="x", "d" != "x"} / on("a") bar'
    assert promql._shape('label_replace(foo{a=""}, "dst", "$1", "src", "(.*)")') == \
        'label_replace(foo{a=""}, "dst", "$1", "src", "(.*)")'


_GOLDEN = sorted({r["promql"] for r in yaml.safe_load((Path(__file__).parent / "queries" / "golden.yaml").read_text())
                  if r.get("promql")} | {e for e, _ in CASES})
_PIECES = ['"', '\\', "\n", "'", "`", "#", "{", "}", "(", ")", "=", "~", "!", ",", ".*", "|", "$", "x", "",
           '=~"', '!~"', '=""', '"x"', "é", " ", '"__name__"', '{"a"=', '"a"', ' on("a") group_left(a) ']


def test_golden_promql_same_answer():
    for expr in _GOLDEN:
        assert fresh(expr) == parsed(expr), expr


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_GOLDEN), st.lists(st.tuples(st.integers(0, 400), st.sampled_from(_PIECES), st.integers(0, 2)),
                                          min_size=1, max_size=3))
def test_mutated_same_answer(expr, edits):
    for at, piece, cut in edits:
        at %= len(expr) + 1
        expr = expr[:at] + piece + expr[at + cut:]
    assert fresh(expr) == parsed(expr)


# what a dashboard request wraps around its base expression (requests.RequestTranslator._shape)
_WRAPPERS = ["avg_over_time(({})[$__range:$__interval])", "last_over_time(({})[$__range:$__interval])", "topk(5, {})", "bottomk(3, {})", "sort_desc({})",
             "sort(max_over_time(({})[$__range:$__interval]))", "sort_desc(topk(10, avg_over_time(({})[1h:1m])))"]


@pytest.mark.parametrize("expr,vector", [
    ('sum(rate(x{a="b"}[5m]))', True), ("x", True), ("-x", True), ("1 + x", True), ("x > bool 1", True),
    ("vector(1)", True), ('label_replace(x, "a", "$1", "b", "(.*)")', True), ("x and y", True),
    ("1", False), ("-(1)", False), ("1 + 1", False), ("scalar(x)", False), ("time()", False),
    ("x[5m]", False), ("(x)[5m:1m]", False), ('"a"', False), ("sum(x", False), ("x # a comment", False),
])
def test_is_vector(expr, vector):
    promql._checked.cache_clear()
    assert promql.is_vector_promql(expr) is vector


def test_a_vector_wrapped_parses():
    """is_vector_promql(e) promises every request wrapper of e parses (the panel skips that parse)."""
    promql._checked.cache_clear()
    bases = _GOLDEN + ["x", "-x", "vector(1)", "x @ end()", "x offset 5m", "(x)", "x{a=\"b\"} # c\n"]
    vectors = [e for e in bases if promql.is_vector_promql(e)]
    assert len(vectors) > len(bases) // 2
    for e in vectors:
        for wrapper in _WRAPPERS:
            assert parsed(wrapper.format(e)) is None, (wrapper, e)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_GOLDEN), st.lists(st.tuples(st.integers(0, 400), st.sampled_from(_PIECES + ["[5m]", "1 + ", "scalar(", " offset 5m", " @ end()", "#"]), st.integers(0, 2)),
                                          min_size=1, max_size=3), st.sampled_from(_WRAPPERS))
def test_mutated_vector_wrapped_parses(expr, edits, wrapper):
    for at, piece, cut in edits:
        at %= len(expr) + 1
        expr = expr[:at] + piece + expr[at + cut:]
    promql._checked.cache_clear()
    if promql.is_vector_promql(expr):
        assert parsed(wrapper.format(expr)) is None


@pytest.mark.parametrize("expr", [
    'sum by (a) (x{b="c"}) and topk(10, avg_over_time((sum by (a) (x{b="c"}))[$__range:$__interval] @ end()))',
    '(a or b) and topk(10, avg_over_time((a or b)[1h:1m] @ end()))',
    'a or b and topk(10, avg_over_time((a or b)[1h:1m]))',          # `or` binds last: b and topk(...)
    'a unless b and bottomk(3, max_over_time((a unless b)[1h:1m] @ end()))',
    '1 and topk(10, avg_over_time((1)[1h:1m]))',                     # a scalar: refused
    'scalar(x) and topk(10, avg_over_time((scalar(x))[1h:1m]))',
    'x[5m] and topk(10, avg_over_time((x[5m])[1h:1m]))',
    'x and topk(0x1, avg_over_time((x)[1h:1m]))',
    'x and topk(10, avg_over_time((x)[1h]))',                       # not a subquery: refused
    'x and topk(10, rate((x)[1h:1m] @ end()))',
    'x and topk(10, avg_over_time((x)[1h:1m] @ end())) # c',
    'x # c\n and topk(10, avg_over_time((x # c\n)[1h:1m]))',
    'sum(x) and topk(10, avg_over_time((sum(y))[1h:1m] @ end()))',  # another query: parsed whole
    '(x and topk(10, avg_over_time((x)[1h:1m] @ end()))) and topk(5, avg_over_time(((x and topk(10, '
    'avg_over_time((x)[1h:1m] @ end()))))[1h:1m] @ end()))',
    'x{a="b" and topk(10, avg_over_time((x{a="b")[1h:1m]))',
])
def test_top_ranked_same_answer(expr):
    """A top() translation (q and topk(n, f((q)[r:s]))) is checked as q and the rest with x for q."""
    assert fresh(expr) == parsed(expr)


def test_top_ranked_mutated_same_answer():
    tops = [e for e in _GOLDEN if " and topk(" in e or " and bottomk(" in e]
    assert tops
    for expr in tops:
        for at in range(0, len(expr), 7):
            for piece in ("", " or 1", "1 + ", ")", "(", "[5m]", "scalar(", "#"):
                mutated = expr[:at] + piece + expr[at + 1:]
                assert fresh(mutated) == parsed(mutated), mutated


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(_GOLDEN), st.lists(st.tuples(st.integers(0, 400), st.sampled_from(_PIECES + [" or ", " and ", "1", "[5m]", "scalar("]), st.integers(0, 2)),
                                          max_size=3), st.booleans(), st.sampled_from(["", " @ end()"]))
def test_top_ranked_of_mutated_queries_same_answer(query, edits, paren, at):
    for pos, piece, cut in edits:
        pos %= len(query) + 1
        query = query[:pos] + piece + query[pos + cut:]
    kept = f"({query})" if paren else query
    expr = f"{kept} and topk(10, avg_over_time(({query})[$__range:$__interval]{at}))"
    assert fresh(expr) == parsed(expr)


def test_a_type_too_deep_to_work_out_is_not_a_vector():
    promql._checked.cache_clear()
    expr = " + ".join(["x"] * 3000)
    assert promql.promql_error(expr) is None and not promql.is_vector_promql(expr)
