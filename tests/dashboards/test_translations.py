"""The run's translation cache: the same answers as the transpiler, each asked once."""

from __future__ import annotations

import dataclasses

import pytest

from dd2prom.convert.dashboards import translations
from dd2prom.convert.dashboards.translations import TranslationCache
from dd2prom.convert.queries import translate, translate_formula
from dd2prom.convert.queries.types import TranslateContext

BASE = TranslateContext(target="dashboard", template_variables={"env": "env"},
                        template_variable_tags={"env": "environment"})

CONTEXTS = {
    "same": BASE,
    "equal copy": dataclasses.replace(BASE, template_variables={"env": "env"}),
    "variable renamed": dataclasses.replace(BASE, template_variables={"env": "env_"}),
    "other tag": dataclasses.replace(BASE, template_variable_tags={"env": "env"}),
    "monitor target": dataclasses.replace(BASE, target="monitor"),
    "other metadata": dataclasses.replace(BASE, metric_metadata={"system.cpu.user": {"type": "gauge"}}),
}


@pytest.mark.parametrize("query", ["avg:system.cpu.user{$env} by {host}", "sum:requests.count{env:prod}.as_count()",
                                   "avg:system.cpu.user{"])
@pytest.mark.parametrize("name", CONTEXTS)
def test_answers_are_the_transpilers(query, name):
    cache = TranslationCache()
    first = cache.translate(query, BASE)
    ctx = CONTEXTS[name]
    again = cache.translate(query, ctx)
    assert again == translate(query, ctx=ctx)
    assert (again is first) == (name in ("same", "equal copy"))


def test_formulas_are_keyed_by_their_queries(monkeypatch):
    calls = []
    monkeypatch.setattr(translations, "translate_formula",
                        lambda f, q, ctx: calls.append(f) or translate_formula(f, q, ctx=ctx))
    cache = TranslationCache()
    a = cache.translate_formula("a / b", {"a": "sum:x{*}", "b": "sum:y{*}"}, BASE)
    assert cache.translate_formula("a / b", {"a": "sum:x{*}", "b": "sum:y{*}"}, BASE) is a
    assert cache.translate_formula("a / b", {"a": "sum:x{*}", "b": "sum:z{*}"}, BASE).promql != a.promql
    assert calls == ["a / b", "a / b"]


def test_bounded(monkeypatch):
    monkeypatch.setattr(translations, "MAX_ENTRIES", 2)
    cache = TranslationCache()
    for q in ("avg:a{*}", "avg:b{*}", "avg:c{*}"):
        cache.translate(q, BASE)
    assert len(cache._results) == 1
