"""The output contract every stage shares, checked on the bundled sample
organisation and on ../shared/corpus: every input object is in coverage.json
exactly once with a known status, every file kustomization.yaml lists exists,
and no two Kubernetes objects share an identity (kustomize would refuse them)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from dd2prom.convert import run_convert
from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.model import Status
from dd2prom.resources import sample_org_dir
from dd2prom.snapshot import RESOURCE_DIRS, Snapshot
from tests.support import shared_dir

KIND_OF_DIR = {"monitors": "monitor", "dashboards": "dashboard", "slos": "slo", "synthetics": "synthetics",
               "downtimes": "downtime"}


def _check(snapshot_dir: Path, out: Path) -> None:
    run_convert(snapshot_dir, out)
    cov = json.loads((out / "coverage.json").read_text())
    keys = [(i["kind"], i["id"]) for i in cov["items"]]
    assert len(keys) == len(set(keys)), [k for k, n in collections.Counter(keys).items() if n > 1][:5]
    assert {i["status"] for i in cov["items"]} <= {s.value for s in Status}
    snap = Snapshot.open(snapshot_dir)
    for folder in RESOURCE_DIRS:
        for obj in snap.iter(folder):
            assert (KIND_OF_DIR[folder], obj.id) in set(keys), f"{folder}/{obj.path.name} is not in coverage.json"
    for item in cov["items"]:
        assert item["notes"] or item["status"] == "exact", f"{item['kind']} {item['id']} is {item['status']} without a reason"
        for rel in item["outputs"]:
            assert (out / rel).exists(), f"{item['kind']} {item['id']} names missing output {rel}"
    kust = load_yaml_all((out / "kustomization.yaml").read_text())[0]
    identities = collections.Counter()
    for rel in kust["resources"]:
        path = out / rel
        assert path.is_file(), rel
        for doc in load_yaml_all(path.read_text()):
            meta = doc["metadata"]
            identities[(doc["apiVersion"], doc["kind"], meta.get("namespace"), meta["name"])] += 1
    dupes = [i for i, n in identities.items() if n > 1]
    assert not dupes, dupes[:5]


def test_sample_org_output_contract(tmp_path):
    _check(sample_org_dir(), tmp_path / "out")


@pytest.mark.corpus
def test_corpus_output_contract(tmp_path):
    _check(shared_dir("corpus"), tmp_path / "out")
