"""../shared/corpus: every check instance and synthetics test has a status; 0 invalid objects."""

from __future__ import annotations

import pytest

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.export.sources import read_checks_tree
from dd2prom.export.sources.records import record_id
from dd2prom.validate.crd import validate_objects
from dd2prom.validate.verify import check_blackbox, check_rules
from tests.checks.helpers import objects
from tests.support import crd_dir, require_binary, shared_dir

pytestmark = pytest.mark.corpus


def test_corpus_checks_and_synthetics(tmp_path):
    corpus = shared_dir("corpus")
    out = tmp_path / "out"
    ctx = run_convert(corpus, out, ConvertOptions(), only={"checks", "synthetics"})
    items = {(i.kind, i.id): i for i in ctx.ledger}
    expected = {("check", record_id(r)) for r in read_checks_tree(corpus / "checks")}
    assert expected and expected <= set(items)
    syn = {("synthetics", p.stem) for p in (corpus / "synthetics").glob("*.json")}
    assert syn <= set(items)
    assert not [i.id for i in ctx.ledger if i.status.value == "error"]
    assert validate_objects(objects(out), crd_dir()) == []
    require_binary("prometheus-blackbox-exporter")
    require_binary("promtool")
    assert check_blackbox(out).ok and check_rules(out).ok
