"""Every generated dashboard type-checks against @grafana/schema (one tsc run)
and every PromQL expression in it parses."""

from __future__ import annotations

import copy

import pytest

from dd2prom.emit.yamlio import dump_yaml
from dd2prom.validate import tools
from dd2prom.validate.promql import promql_error
from dd2prom.validate.verify import check_dashboards
from tests.dashboards.tsc_check import typecheck
from tests.support import require_binary


def _all(sample, request) -> dict[str, dict]:
    dashboards = {f"sample/{uid}": d for uid, d in sample.dashboards.items()}
    for name in ("fuzzed", "example"):
        dashboards.update({f"{name}/{uid}": d for uid, d in request.getfixturevalue(name).dashboards.items()})
    try:
        corpus = request.getfixturevalue("corpus")
    except pytest.skip.Exception:
        return dashboards
    dashboards.update({f"corpus/{uid}": d for uid, d in corpus.dashboards.items()})
    return dashboards


def test_every_dashboard_type_checks(sample, request):
    dashboards = _all(sample, request)
    assert len(dashboards) >= 3
    errors = typecheck(dashboards)
    assert errors == [], "\n".join(errors[:40])


def test_odd_input_never_breaks_a_dashboard(fuzzed):
    assert len(fuzzed.dashboards) == 36
    errors = [i for i in fuzzed.coverage["items"] if i["status"] == "error"]
    assert errors == [], errors[:3]


def test_typecheck_rejects_wrong_fields_and_values(sample):
    d = copy.deepcopy(sample.dashboards["dd-abc-def-ghi"])
    d["panels"][0]["options"]["legend"]["placement"] = "top"          # not an enum value
    d["panels"][1]["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "line"}  # stat has no custom fields
    d["panels"][2]["bogus"] = 1                                       # excess property
    d["templating"]["list"][1]["refresh"] = "2"                      # wrong type
    errors = typecheck({"bad": d})
    assert len(errors) == 4, errors


def _exprs(dashboards: dict[str, dict]):
    for name, d in dashboards.items():
        for p in d["panels"]:
            for panel in [p] + p.get("panels", []):
                for t in panel.get("targets", []):
                    yield name, t["expr"]


def test_every_promql_expression_parses(sample, request):
    for name, expr in _exprs(_all(sample, request)):
        assert promql_error(expr) is None, (name, expr)
    assert check_dashboards(sample.out).ok


def test_prometheus_accepts_every_expression(sample, request, tmp_path):
    """The real Prometheus parser (promtool, the 2.42 the project targets), one run:
    every target as a recording rule, Grafana's interval variables given values."""
    require_binary("promtool")
    exprs = sorted({e for _, e in _exprs(_all(sample, request))})
    rules = [{"record": f"dashboard:expr_{i}", "expr": (e.replace("$__rate_interval", "5m").replace("$__interval", "1m")
                                                         .replace("$__range", "1h"))} for i, e in enumerate(exprs)]
    f = tmp_path / "exprs.rules.yaml"
    f.write_text(dump_yaml({"groups": [{"name": "dashboards", "rules": rules}]}), encoding="utf-8")
    r = tools.promtool_check_rules([f])
    assert r.ok, r.output[-3000:]
