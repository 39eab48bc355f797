"""../shared/corpus: every dashboard and every widget (nested too) is in
coverage.json, no dashboard is invalid, every output is well formed."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.support import shared_dir

pytestmark = pytest.mark.corpus


def _count_widgets(widgets) -> int:
    n = 0
    for w in widgets or []:
        if isinstance(w, dict):
            n += 1 + _count_widgets((w.get("definition") or {}).get("widgets"))
    return n


def test_every_dashboard_and_widget_is_covered(corpus):
    files = sorted((shared_dir("corpus") / "dashboards").glob("*.json"))
    expected_widgets = sum(_count_widgets(json.loads(f.read_text(encoding="utf-8")).get("widgets")) for f in files)
    items = corpus.coverage["items"]
    dashboards = [i for i in items if i["kind"] == "dashboard"]
    widgets = [i for i in items if i["kind"] == "widget"]
    assert len(dashboards) == len(files)
    assert len(widgets) == expected_widgets
    assert all(i["id"].startswith(i["dashboard"] + "/") for i in widgets)
    assert [d["id"] for d in dashboards if d["status"] == "error"] == []
    assert len(corpus.dashboards) == len(files)
    assert len(list((corpus.out / "grafana" / "configmaps").glob("*.yaml"))) == len(files)
    for d in dashboards:
        assert set(d) >= {"author", "metrics", "widgets"}
        assert sum(d["widgets"].values()) == sum(1 for w in widgets if w["dashboard"] == d["id"])
    for w in widgets:
        assert w["status"] == "exact" or w["notes"], w   # every difference is explained
        assert len(w.get("promql", [])) == len(w.get("queries", []))
    counts = Counter((w["type"], w["status"]) for w in widgets)
    print("\nwidgets by type and status:", dict(sorted(counts.items())))
