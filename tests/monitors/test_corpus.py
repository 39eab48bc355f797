"""The shared corpus: every monitor is in coverage, nothing emitted is invalid."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from dd2prom.convert.pipeline import run_convert
from dd2prom.validate.verify import verify
from tests.support import crd_dir, require_binary, shared_dir

pytestmark = pytest.mark.corpus


def test_corpus_monitors(tmp_path):
    require_binary("promtool")
    require_binary("amtool")
    corpus = shared_dir("corpus")
    out = tmp_path / "out"
    run_convert(corpus, out, only={"checks", "synthetics", "monitors"})
    doc = json.loads((out / "coverage.json").read_text())
    items = [i for i in doc["items"] if i["kind"] == "monitor"]
    assert len(items) == len(list((corpus / "monitors").glob("*.json")))
    assert not [i for i in items if i["status"] == "error"], [i["notes"] for i in items if i["status"] == "error"]
    for result in verify(out, crd_dir()):
        assert result.ok, (result.name, result.details)
    counts = Counter((i["type"], i["status"]) for i in items)
    print(dict(sorted(counts.items())))
    converted = [i for i in items if i["status"] in ("exact", "approximate")]
    assert all(i["outputs"] and i.get("promql") for i in converted)
