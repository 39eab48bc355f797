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
