"""Files written: dashboard JSON, sidecar ConfigMap; bad input stays per item."""

from __future__ import annotations

import json

import pytest

from dd2prom.convert.dashboards import sidecar, widgets
from dd2prom.convert.dashboards.dashboard import grafana_uid
from dd2prom.emit import fastyaml
from dd2prom.emit.yamlio import load_yaml_all
from tests.dashboards import samples


def test_configmap_for_the_grafana_sidecar(sample):
    cm = load_yaml_all((sample.out / "grafana/configmaps/dd-abc-def-ghi.yaml").read_text())[0]
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm["metadata"]["annotations"]["grafana_folder"] == "Datadog"
    assert json.loads(cm["data"]["dd-abc-def-ghi.json"]) == sample.dashboards["dd-abc-def-ghi"]
    kustomization = load_yaml_all((sample.out / "kustomization.yaml").read_text())[0]
    assert "grafana/configmaps/dd-abc-def-ghi.yaml" in kustomization["resources"]


def test_dashboard_identity(sample):
    d = sample.dashboards["dd-abc-def-ghi"]
    assert d["uid"] == "dd-abc-def-ghi" and d["title"] == "Service overview"
    assert d["tags"] == ["datadog", "team:web"]
    assert d["links"][0]["url"] == "https://app.datadoghq.com/dashboard/abc-def-ghi"
    assert d["templating"]["list"][0]["name"] == "datasource"


def test_uid_is_stable_short_and_a_valid_name():
    uid = grafana_uid("extras__some_integration__A_Very_Long_Dashboard_Name_Overview")
    assert uid == grafana_uid("extras__some_integration__A_Very_Long_Dashboard_Name_Overview")
    assert len(uid) <= 40 and uid == uid.lower()


@pytest.mark.parametrize("text", [
    '{\n  "a": "b\\"c",\n  "d": "<x> & y"\n}\n', "é — 😀 \u2028", "\t\r\b\f\x00\x1f\x7f", "", '\\"\\'])
def test_last_applied_size_is_the_escaped_length(text):
    """Counted on the bytes; must equal what escaping the text as a JSON string gives."""
    escaped = json.dumps(text, ensure_ascii=False)
    expected = len(escaped.encode()) + 5 * sum(escaped.count(c) for c in "<>&") + sidecar._METADATA_ALLOWANCE
    assert sidecar.last_applied_size(text.encode()) == expected


@pytest.mark.parametrize("text", [
    '{\n  "a": "b — ·",\n  "d": "<x> & y"\n}\n', '{\n  "a": 1\n}\n', "x\n", "é\u2028\n", "a\x7f\n", "a\x85b\n",
    "😀\n", "\ufeff\n", "a \nb\n", "a\n\nb\n", " a\n", "\na\n", "a\nb", "a\n\n", "\n", "a\tb\n"])
@pytest.mark.parametrize("folder", ["Datadog", "team: web", "'quoted'"])
def test_configmap_yaml_is_what_dump_yaml_writes(text, folder):
    """The bytes fast path and the general one write the same file (or the fast one steps aside)."""
    from dd2prom.emit.yamlio import dump_yaml
    kw = {"namespace": "monitoring", "folder": folder, "source": "datadog dashboard abc-def-ghi"}
    expected = dump_yaml(sidecar.configmap("dd-abc-def-ghi", text, **kw)).encode()
    assert sidecar.configmap_yaml("dd-abc-def-ghi", text.encode(), **kw) == expected
    if text.startswith("{"):   # dashboards' JSON takes the fast path
        assert fastyaml.literal_lines(text.encode(), 2) is not None


def test_literal_lines_refuses_bytes_that_are_not_utf8():
    assert fastyaml.literal_lines(b"a\xff\nb\n", 2) is None
    assert fastyaml.literal_lines(b"a\nb\n", 2) == b"    a\n    b\n"


def test_too_large_for_a_configmap(run, monkeypatch):
    monkeypatch.setattr(sidecar, "MAX_DATA", 100)
    out, ctx = run([samples.free_dashboard()])
    item = ctx.ledger.get("dashboard", "free-lay-out")
    assert item.status.value == "manual" and any("1 MiB" in n for n in item.notes)
    assert (out / "grafana/dashboards/dd-free-lay-out.json").is_file()
    assert not (out / "grafana/configmaps").exists()


def test_broken_input_is_an_error_item_and_the_rest_converts(run, tmp_path):
    out, ctx = run([samples.free_dashboard(), {"id": "bad-one-xyz", "title": "Bad", "widgets": "not a list"}])
    assert (out / "grafana/dashboards/dd-free-lay-out.json").is_file()
    assert ctx.ledger.get("dashboard", "bad-one-xyz").status.value != "error"   # no widgets: still a dashboard


def test_a_failing_widget_does_not_lose_the_dashboard(run, monkeypatch):
    def boom(wc):
        raise RuntimeError("kaput")

    monkeypatch.setitem(widgets.CONVERTERS, "note", boom)
    out, ctx = run([samples.free_dashboard()])
    note = next(i for i in ctx.ledger if i.kind == "widget" and i.type == "note")
    assert note.status.value == "error" and "kaput" in " ".join(note.notes)
    d = json.loads((out / "grafana/dashboards/dd-free-lay-out.json").read_text())
    assert any("kaput" in p["description"] for p in d["panels"])


def test_unreadable_dashboard_file(run, tmp_path):
    out, ctx = run([samples.free_dashboard()])
    snap = tmp_path / "snap"
    (snap / "dashboards" / "zzz.json").write_text("{not json", encoding="utf-8")
    from dd2prom.convert import pipeline

    ctx = pipeline.run_convert(snap, tmp_path / "out2", only={"dashboards"})
    assert ctx.ledger.get("dashboard", "zzz").status.value == "error"
    assert ctx.ledger.get("dashboard", "free-lay-out").status.value != "error"


def test_colliding_uids_are_kept_apart(run, monkeypatch):
    from dd2prom.convert.dashboards import dashboard

    monkeypatch.setattr(dashboard, "grafana_uid", lambda i: "dd-same-2" if i.endswith("-2") else "dd-same")
    first, second = samples.free_dashboard(), samples.free_dashboard()
    second["id"] = "free lay out"
    out, ctx = run([first, second])
    uids = {ctx.ledger.get("dashboard", i).extra["uid"] for i in ("free-lay-out", "free lay out")}
    assert len(uids) == 2 and all((out / f"grafana/dashboards/{u}.json").is_file() for u in uids)
