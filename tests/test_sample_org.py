"""The bundled sample organisation is a well-formed snapshot: every file parses, every
object's id matches its file name, and the numbers the cost report relies on are there."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dd2prom.resources import sample_org_dir
from dd2prom.snapshot import Snapshot

ROOT = sample_org_dir()
JSON_FILES = sorted(ROOT.rglob("*.json"))
ID_FIELD = {"monitors": "id", "dashboards": "id", "slos": "id", "synthetics": "public_id", "downtimes": "id"}


def test_sample_org_exists():
    assert (ROOT / "manifest.json").is_file()
    assert len(JSON_FILES) > 30


@pytest.mark.parametrize("path", JSON_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_json_file_is_valid_and_id_matches_name(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    folder = path.parent.name
    if folder in ID_FIELD:
        assert str(data[ID_FIELD[folder]]) == path.stem


@pytest.mark.parametrize("path", sorted((ROOT / "checks").rglob("*.yaml")), ids=lambda p: p.name)
def test_check_files_are_yaml(path: Path):
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs


def test_snapshot_reads_every_kind():
    snap = Snapshot.open(ROOT)
    counts = {kind: sum(1 for o in snap.iter(kind) if o.error is None)
              for kind in ("monitors", "dashboards", "slos", "synthetics", "downtimes")}
    assert counts == {k: snap.manifest["counts"][k] for k in counts}
    assert len(snap.metric_metadata()) == snap.manifest["counts"]["metrics"]


def test_usage_is_twelve_hosts_with_25_containers_each():
    summary = Snapshot.open(ROOT).usage()["summary"]
    months = summary["usage"]
    assert len(months) == 3
    for month in months:
        assert month["infra_host_top99p"] == 12
        assert month["container_avg"] == 12 * 25
        assert month["container_hwm"] >= month["container_avg"]
        assert month["custom_ts_avg"] > 0


def _queries(node):
    """Every query string of an object: monitor query, widget q/query, SLO numerator/denominator."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("query", "q", "numerator", "denominator") and isinstance(value, str):
                yield value
            else:
                yield from _queries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _queries(value)


def test_every_metric_used_has_metadata():
    snap = Snapshot.open(ROOT)
    meta = snap.metric_metadata()
    used = set()
    for kind in ("monitors", "dashboards", "slos"):
        for obj in snap.iter(kind):
            for query in _queries(obj.data):
                used.update(re.findall(r"(?:avg|sum|min|max):([a-z_][a-z0-9_.]+)\{", query))
    assert len(used) > 15
    assert sorted(used - set(meta)) == []


def test_every_sample_file_is_packaged():
    """pyproject's data-files globs do not recurse: every sample file must match one."""
    import tomllib

    repo = ROOT.parents[1]
    data_files = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    packaged = {p.resolve() for globs in data_files.values() for g in globs for p in repo.glob(g) if p.is_file()}
    missing = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and p.resolve() not in packaged]
    assert not missing
