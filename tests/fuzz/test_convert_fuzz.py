"""Property-based tests over whole monitor and dashboard objects: missing
fields, wrong types, unknown widget types, huge strings, deep nesting and
unicode. The only outcomes are a conversion or a per-item error: every input
item is in coverage.json, and every file written is valid YAML/JSON with
PromQL that parses."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dd2prom.convert import run_convert
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.snapshot import atomic_write_json
from dd2prom.validate.promql import promql_error
from dd2prom.validate.verify import iter_exprs

MONITOR = {
    "id": 1001,
    "name": "High CPU on {{host.name}}",
    "type": "query alert",
    "query": "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90",
    "message": "CPU is {{value}} on {{host.name}} {{#is_alert}}@slack-ops{{/is_alert}} @pagerduty-infra",
    "tags": ["team:infra", "service:node"],
    "options": {"thresholds": {"critical": 90, "warning": 80}, "notify_no_data": True,
                "no_data_timeframe": 10, "renotify_interval": 60, "evaluation_delay": 60},
    "priority": 2,
}

DASHBOARD = {
    "id": "abc-def-ghi",
    "title": "Cluster overview",
    "layout_type": "ordered",
    "template_variables": [{"name": "env", "prefix": "env", "default": "prod"}],
    "widgets": [
        {"id": 1, "definition": {"type": "timeseries", "title": "CPU",
                                 "requests": [{"q": "avg:system.cpu.user{$env} by {host}", "display_type": "line"}]},
         "layout": {"x": 0, "y": 0, "width": 6, "height": 3}},
        {"id": 2, "definition": {"type": "group", "title": "Pods", "layout_type": "ordered", "widgets": [
            {"id": 3, "definition": {"type": "query_value", "requests": [{"q": "sum:kubernetes.pods.running{$env}", "aggregator": "last"}]},
             "layout": {"x": 0, "y": 0, "width": 2, "height": 2}}]},
         "layout": {"x": 6, "y": 0, "width": 6, "height": 4}},
        {"id": 4, "definition": {"type": "note", "content": "Runbook: {{ see wiki }}"}},
    ],
}

WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.text(alphabet="\"'\\\n{}$|()[]*.+?^", max_size=30),
    st.just("x" * 20000), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just("ünïcødé ✓ 监控"), st.just("{{ $labels.evil }}{{ end }}{{"),
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _set(obj, path, value, delete=False):
    if not path:
        return value
    target = obj
    for p in path[:-1]:
        target = target[p]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return obj


@st.composite
def mutated(draw, seed):
    obj = copy.deepcopy(seed)
    paths = [p for p in _paths(obj) if p and p[0] not in ("id",)]
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(obj) if p and p[0] not in ("id",)]
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "delete", "nest", "unknown_type"]))
        try:
            if kind == "replace":
                obj = _set(obj, path, draw(WEIRD))
            elif kind == "delete":
                obj = _set(obj, path, None, delete=True)
            elif kind == "nest":
                deep: object = "x"
                for _ in range(draw(st.integers(10, 200))):
                    deep = {"widgets": [{"definition": {"type": "group", "widgets": [deep]}}]}
                obj = _set(obj, path, deep)
            else:
                obj = _set(obj, path, {"type": draw(st.text(min_size=1, max_size=12))})
        except (KeyError, IndexError, TypeError):
            pass
    return obj


def _assert_valid_output(out: Path, expected: set[tuple[str, str]]) -> None:
    cov = json.loads((out / "coverage.json").read_text())
    keys = [(i["kind"], i["id"]) for i in cov["items"]]
    assert len(keys) == len(set(keys)), "an item appears twice"
    assert expected <= set(keys), f"missing from coverage: {expected - set(keys)}"
    for path in out.rglob("*"):
        if path.suffix in (".yaml", ".yml"):
            for doc in load_yaml_all(path.read_text()):
                for expr in iter_exprs(doc, rules_only=True):
                    assert promql_error(expr) is None, (path, expr)
        elif path.suffix == ".json":
            json.loads(path.read_text())
    assert not [p for p in out.parent.iterdir() if "staging" in p.name], "staging folder left behind"


FUZZ = settings(max_examples=int(__import__("os").environ.get("DD2PROM_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(mon=mutated(MONITOR), dash=mutated(DASHBOARD))
def test_mutated_objects_convert_or_error_per_item(tmp_path_factory, mon, dash):
    root = tmp_path_factory.mktemp("fuzz")
    snap = root / "snap"
    atomic_write_json(snap / "monitors" / "1001.json", mon)
    atomic_write_json(snap / "monitors" / "1002.json", MONITOR | {"id": 1002})
    atomic_write_json(snap / "dashboards" / "abc-def-ghi.json", dash)
    (snap / "dashboards" / "broken.json").write_text('{"title": "half writ')
    run_convert(snap, root / "out")
    mon_id = str(mon.get("id", "1001")) if isinstance(mon, dict) and mon.get("id") not in (None, "") else "1001"
    _assert_valid_output(root / "out", {("monitor", mon_id), ("monitor", "1002"), ("dashboard", "broken")})
