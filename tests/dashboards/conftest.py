"""Fixtures for the dashboard tests: a fake transpiler and a converter runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dd2prom.convert import pipeline
from dd2prom.convert.dashboards import translations
from tests.dashboards import fake_transpiler


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(translations, "translate", fake_transpiler.translate)
    monkeypatch.setattr(translations, "translate_formula", fake_transpiler.translate_formula)


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
        mp.setattr(translations, "translate", fake_transpiler.translate)
        mp.setattr(translations, "translate_formula", fake_transpiler.translate_formula)
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


ODD_VALUES = [None, 1, -3.5, True, "x", "", "*", "y = 5", [], [1], {}, {"a": 1}, [{"q": 1}]]


def mutate(node: Any, rng) -> None:
    """Replace or drop random fields with values of the wrong type (in place)."""
    if isinstance(node, dict):
        for key in list(node):
            r = rng.random()
            if r < 0.08:
                node[key] = rng.choice(ODD_VALUES)
            elif r < 0.1:
                del node[key]
            else:
                mutate(node[key], rng)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if rng.random() < 0.05:
                node[i] = rng.choice(ODD_VALUES)
            else:
                mutate(value, rng)


@pytest.fixture(scope="session")
def fuzzed(tmp_path_factory):
    """The samples with fields replaced by values of the wrong type (seeded):
    odd input must give explained per-widget statuses and valid dashboards."""
    import random

    from tests.dashboards import samples

    rng = random.Random(20261127)
    dashboards = []
    for n in range(12):
        for d in samples.all_dashboards():
            mutate(d, rng)
            d["id"] = f"fuzz-{n}-{len(dashboards)}"
            dashboards.append(d)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(translations, "translate", fake_transpiler.translate)
        mp.setattr(translations, "translate_formula", fake_transpiler.translate_formula)
        out, _ = convert(tmp_path_factory.mktemp("fuzz"), dashboards)
    return Converted(out)


@pytest.fixture(scope="session")
def example(tmp_path_factory):
    """examples/sample-org's dashboards converted with the real transpiler."""
    from tests.support import REPO

    out = tmp_path_factory.mktemp("example") / "out"
    pipeline.run_convert(REPO / "examples" / "sample-org", out, only={"dashboards"})
    return Converted(out)
