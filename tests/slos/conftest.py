"""A stand-in transpiler for unit tests: each Datadog metric query becomes
``sum(increase(<metric>[<window>]))`` (or the plain metric), so these tests
check the SLO layer, not the transpiler."""

from __future__ import annotations

import re

import pytest

from dd2prom.convert.queries.types import Translation
from dd2prom.model import Status

_METRIC = re.compile(r"[a-z0-9_]+:([A-Za-z0-9_.]+)\{([^}]*)\}")


def _fake(query: str, ctx) -> Translation:
    window = getattr(ctx, "window", None) or "5m"

    def one(m: re.Match) -> str:
        name = m.group(1).replace(".", "_")
        return f"sum(increase({name}_total[{window}]))" if ".as_count()" in query else f"max({name})"

    promql = _METRIC.sub(one, query).replace(".as_count()", "")
    return Translation(query=query, promql=promql, status=Status.EXACT,
                       metrics=[m.group(1) for m in _METRIC.finditer(query)])


@pytest.fixture
def fake_transpiler(monkeypatch):
    def translate(query, monitor=False, ctx=None):
        return _fake(query, ctx)

    def translate_formula(formula, queries, ctx=None):
        text = formula
        for name, q in queries.items():
            text = re.sub(rf"\b{re.escape(name)}\b", f"({_fake(q, ctx).promql})", text)
        return Translation(query=formula, promql=text, status=Status.EXACT)

    for mod in ("metric", "time_slice"):
        monkeypatch.setattr(f"dd2prom.convert.slos.{mod}.translate_formula", translate_formula)
    monkeypatch.setattr("dd2prom.convert.slos.metric.translate", translate)
