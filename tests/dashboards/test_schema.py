"""Every generated dashboard type-checks against @grafana/schema (one tsc run)
and every PromQL expression in it parses."""

from __future__ import annotations

import copy

import pytest

from dd2prom.validate.promql import promql_error
from dd2prom.validate.verify import check_dashboards
from tests.dashboards.tsc_check import typecheck


def _all(sample, request) -> dict[str, dict]:
    dashboards = {f"sample/{uid}": d for uid, d in sample.dashboards.items()}
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


def test_typecheck_rejects_wrong_fields_and_values(sample):
    d = copy.deepcopy(sample.dashboards["dd-abc-def-ghi"])
    d["panels"][0]["options"]["legend"]["placement"] = "top"          # not an enum value
    d["panels"][1]["fieldConfig"]["defaults"]["custom"] = {"drawStyle": "line"}  # stat has no custom fields
    d["panels"][2]["bogus"] = 1                                       # excess property
    d["templating"]["list"][1]["refresh"] = "2"                      # wrong type
    errors = typecheck({"bad": d})
    assert len(errors) == 4, errors


def test_every_promql_expression_parses(sample, request):
    for name, d in _all(sample, request).items():
        for p in d["panels"]:
            for panel in [p] + p.get("panels", []):
                for t in panel.get("targets", []):
                    assert promql_error(t["expr"]) is None, (name, panel.get("title"), t["expr"])
    assert check_dashboards(sample.out).ok
