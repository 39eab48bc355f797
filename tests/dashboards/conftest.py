"""Fixtures for the dashboard tests: a fake transpiler and a converter runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dd2prom.convert import pipeline
from dd2prom.convert.dashboards import requests
from tests.dashboards import fake_transpiler


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(requests, "translate", fake_transpiler.translate)
    monkeypatch.setattr(requests, "translate_formula", fake_transpiler.translate_formula)


def write_snapshot(root: Path, dashboards: list[dict[str, Any]], metrics: dict[str, dict] | None = None) -> Path:
    (root / "dashboards").mkdir(parents=True, exist_ok=True)
    for d in dashboards:
        (root / "dashboards" / f"{d['id']}.json").write_text(json.dumps(d), encoding="utf-8")
    for name, meta in (metrics or {}).items():
        (root / "metrics").mkdir(exist_ok=True)
        (root / "metrics" / f"{name}.json").write_text(json.dumps(dict(meta, metric=name)), encoding="utf-8")
    return root


def convert(tmp_path: Path, dashboards: list[dict[str, Any]], metrics: dict[str, dict] | None = None):
    snap = write_snapshot(tmp_path / "snap", dashboards, metrics)
    out = tmp_path / "out"
    ctx = pipeline.run_convert(snap, out, only={"dashboards"})
    return out, ctx


@pytest.fixture
def run(tmp_path):
    return lambda dashboards, metrics=None: convert(tmp_path, dashboards, metrics)


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    """The hand-written sample dashboards converted with the fake transpiler:
    (output folder, coverage items by id, dashboards by uid)."""
    from tests.dashboards import samples

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests, "translate", fake_transpiler.translate)
        mp.setattr(requests, "translate_formula", fake_transpiler.translate_formula)
        out, _ = convert(tmp_path_factory.mktemp("sample"), samples.all_dashboards(),
                         {"system.mem.used": {"unit": "byte"}, "trace.latency": {"unit": "second"}})
    return Converted(out)


class Converted:
    """A convert output folder, read back."""

    def __init__(self, out: Path):
        self.out = out
        self.coverage = json.loads((out / "coverage.json").read_text(encoding="utf-8"))
        self.items = {(i["kind"], i["id"]): i for i in self.coverage["items"]}
        self.dashboards = {p.stem: json.loads(p.read_text(encoding="utf-8"))
                           for p in sorted((out / "grafana" / "dashboards").glob("*.json"))}

    def widget(self, wid: str) -> dict[str, Any]:
        return self.items[("widget", wid)]

    def panels(self, uid: str) -> list[dict[str, Any]]:
        """Every panel of a dashboard, rows' children included, rows excluded."""
        out = []
        for p in self.dashboards[uid]["panels"]:
            if p["type"] == "row":
                out += p.get("panels", [])
            else:
                out.append(p)
        return out


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """../shared/corpus's dashboards converted with the real transpiler."""
    from tests.support import shared_dir

    src = shared_dir("corpus")
    out = tmp_path_factory.mktemp("corpus") / "out"
    pipeline.run_convert(src, out, only={"dashboards"})
    return Converted(out)
