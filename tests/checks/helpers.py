"""Shared helpers for the checks/synthetics tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.emit.yamlio import load_yaml_all

FIXTURES = Path(__file__).parent / "fixtures"


def convert(snapshot: Path, out: Path, **options: Any) -> dict[str, dict[str, Any]]:
    """Run the checks and synthetics stages; coverage items by id."""
    run_convert(snapshot, out, ConvertOptions(**options), only={"checks", "synthetics"})
    doc = json.loads((out / "coverage.json").read_text())
    return {i["id"]: i for i in doc["items"]}


def objects(out: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(out.rglob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in load_yaml_all(path.read_text()) if isinstance(d, dict) and "kind" in d]
    return docs


def load(out: Path, rel: str) -> dict[str, Any]:
    return load_yaml_all((out / rel).read_text())[0]


def snapshot_with(tmp: Path, *, checks: dict[str, str] | None = None, synthetics: dict[str, Any] | None = None) -> Path:
    """A raw snapshot: checks/<relpath> files and synthetics/<id>.json tests."""
    snap = tmp / "snap"
    for rel, text in (checks or {}).items():
        p = snap / "checks" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for pid, test in (synthetics or {}).items():
        p = snap / "synthetics" / f"{pid}.json"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(test))
    snap.mkdir(exist_ok=True)
    return snap


def copy_fixtures(tmp: Path, *names: str) -> Path:
    snap = tmp / "snap"
    for n in names:
        shutil.copytree(FIXTURES / n, snap / "checks" / n)
    return snap
