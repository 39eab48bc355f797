"""End to end: a real Prometheus on 127.0.0.1 backfilled with the synthetic data
(promtool tsdb create-blocks-from openmetrics), Datadog's answers for the same
data replayed from a vcrpy cassette, ``dd2prom compare`` over a convert output
whose translations are right, subtly wrong, or miss series."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from dd2prom.compare import cli_compare, load_comparison
from dd2prom.snapshot import atomic_write_json
from tests.compare import synthetic
from tests.compare.make_cassettes import CASSETTE, cassette_vcr
from tests.support import free_port, require_binary, running

pytestmark = pytest.mark.e2e

API_KEY, APP_KEY = "test-api-key-0123456789", "test-app-key-9876543210"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    promtool, prom = require_binary("promtool"), require_binary("prometheus")
    root = tmp_path_factory.mktemp("prometheus")
    (root / "data.om").write_text(synthetic.openmetrics())
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(root / "data.om"), str(root / "tsdb")],
                   check=True, capture_output=True)
    (root / "prometheus.yml").write_text("global:\n  scrape_interval: 15s\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [prom, f"--config.file={root / 'prometheus.yml'}", f"--storage.tsdb.path={root / 'tsdb'}",
           f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y"]
    with running(cmd, url + "/-/ready", root / "prometheus.log"):
        yield url


@pytest.fixture(scope="module")
def compared(prometheus, tmp_path_factory):
    """Run compare once; the tests below read what it wrote and printed."""
    converted = tmp_path_factory.mktemp("converted")
    atomic_write_json(converted / "coverage.json", synthetic.coverage())
    console = Console(record=True, width=200, stderr=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("DD_API_KEY", API_KEY)
    mp.setenv("DD_APP_KEY", APP_KEY)
    mp.delenv("DD_SITE", raising=False)
    try:
        with cassette_vcr("none").use_cassette(str(CASSETTE)):
            code = cli_compare(converted=converted, prometheus_url=prometheus, last=None,
                               start=str(synthetic.RANGE[0]), end=str(synthetic.RANGE[1]), only=None, site=None,
                               api_url=None, tolerance=0.05, out=None, console=console)
    finally:
        mp.undo()
    rows = {(r["id"], r["query_index"]): r for r in load_comparison(converted)["items"]}
    return code, converted, rows, console.export_text()


@pytest.mark.parametrize("key, verdict", [
    (("right", 0), "match"),                 # monitor: rate over the monitor's window
    (("window", 0), "diverges"),             # monitor: rate over 1h instead of last_5m
    (("svc-check", 0), "skipped"),           # not a metric monitor
    (("untranslated", 0), "skipped"),        # no PromQL recorded
    (("dash/right", 0), "match"),            # as_count ↔ increase[$__interval]
    (("dash/right", 1), "match"),            # gauge with template variables on both sides
    (("dash/window", 0), "diverges"),        # as_rate ↔ rate[30m]: smoothed and late
    (("dash/wrong-filter", 0), "missing"),   # env="production": Prometheus has nothing
    (("dash/one-missing", 0), "missing"),    # PromQL filters out a series Datadog shows
])
def test_verdicts(compared, key, verdict):
    _, _, rows, _ = compared
    assert rows[key]["verdict"] == verdict, rows[key]["headline"]


def test_numbers_of_a_right_translation(compared):
    row = compared[2][("right", 0)]
    assert row["series"]["datadog"] == row["series"]["prometheus"] == row["series"]["matched"] == 3
    assert row["points"]["compared"] > 3 * 100
    assert row["relative_error"]["median"] < 0.01
    d = row["decisions"]
    assert d["fired_datadog"] > 10 and d["disagreement"] < 0.02
    assert row["step_seconds"] == row["datadog_interval_seconds"] == 60


def test_wrong_window_is_told_by_values_and_decisions(compared):
    row = compared[2][("window", 0)]
    assert row["series"]["matched"] == 3 and not row["series"]["missing_in_prometheus"]
    assert row["relative_error"]["median"] > 0.1
    assert row["decisions"]["disagreement"] > 0.05
    assert "differ" in row["headline"]


def test_missing_series_are_named(compared):
    rows = compared[2]
    one = rows[("dash/one-missing", 0)]
    assert one["series"]["missing_in_prometheus"] == ['{service="d"}']
    assert one["series"]["matched"] == 3 and one["relative_error"]["median"] < 0.05
    wrong = rows[("dash/wrong-filter", 0)]
    assert wrong["series"]["prometheus"] == 0 and "Prometheus returns no series" in wrong["headline"]


def test_step_and_rollup_are_explained(compared):
    rows = compared[2]
    assert any("60 s buckets" in e for e in rows[("right", 0)]["explanations"])
    assert any("$__interval was taken as the step, 60 s" in e for e in rows[("dash/right", 0)]["explanations"])
    assert any("[30m]" in e for e in rows[("dash/window", 0)]["explanations"])
    assert "[60s]" in rows[("dash/right", 0)]["promql"]


def test_ledger_flags_diverging_items(compared):
    _, converted, _, _ = compared
    items = {i["id"]: i for i in json.loads((converted / "coverage.json").read_text())["items"]}
    assert items["window"]["status"] == "approximate"
    assert any(n.startswith("compare:") for n in items["window"]["notes"])
    assert items["window"]["compare"]["verdict"] == "diverges"
    assert items["dash/one-missing"]["compare"]["verdict"] == "missing"
    assert items["right"]["status"] == "exact" and items["right"]["notes"] == []
    assert items["right"]["compare"]["verdict"] == "match"
    assert "compare" not in items["svc-check"] and items["svc-check"]["status"] == "manual"
    assert items["dash"]["status"] == "exact"


def test_outputs_exit_code_and_no_keys(compared):
    code, converted, _, text = compared
    assert code == 1
    csv_text = (converted / "compare" / "compare.csv").read_text()
    assert csv_text.splitlines()[0].startswith("kind,id,name,query_index,verdict")
    assert len(csv_text.splitlines()) == 1 + 9
    for content in (text, csv_text, (converted / "compare" / "compare.json").read_text(),
                    (converted / "coverage.json").read_text()):
        assert API_KEY not in content and APP_KEY not in content
    assert "diverges" in text and "missing" in text
