"""End to end: a real Prometheus on 127.0.0.1 backfilled with the synthetic data
(promtool tsdb create-blocks-from openmetrics), Datadog's answers for the same
data replayed from a vcrpy cassette, ``dd2prom compare`` over a convert output
whose translations are right, subtly wrong, or miss series."""

from __future__ import annotations

import json
import subprocess

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
    (("short", 0), "match"),                 # last_90s: Datadog asked for 45 s buckets
    (("svc-check", 0), "skipped"),           # not a metric monitor
    (("untranslated", 0), "skipped"),        # no PromQL recorded
    (("dash/right", 0), "match"),            # as_count ↔ increase[$__interval]
    (("dash/right", 1), "match"),            # gauge with template variables on both sides
    (("dash/window", 0), "diverges"),        # as_rate ↔ rate[30m]: smoothed and late
    (("dash/wrong-filter", 0), "missing"),   # env="production": Prometheus has nothing
    (("dash/one-missing", 0), "missing"),    # PromQL filters out a series Datadog shows
    (("dash/wrong-label", 0), "missing"),    # grouped by env instead of queue: nothing pairs up
    (("dash/value", 0), "match"),            # one value over the range: avg_over_time(…[$__range:$__interval])
    (("dash/top", 0), "match"),              # topk(2, …) left out: every series compared
    (("dash/change", 0), "skipped"),         # a change widget's values are differences between periods
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
    label = rows[("dash/wrong-label", 0)]
    assert "no series pairs up by labels" in label["headline"]
    assert 'Prometheus\'s like {env="prod"}' in label["headline"] and "--label-map" in label["headline"]
    wrong = rows[("dash/wrong-filter", 0)]
    assert wrong["series"]["prometheus"] == 0 and "Prometheus returns no series" in wrong["headline"]


def test_step_and_rollup_are_explained(compared):
    rows = compared[2]
    assert any("60 s buckets" in e for e in rows[("right", 0)]["explanations"])
    assert any("$__interval was taken as the step, 60 s" in e for e in rows[("dash/right", 0)]["explanations"])
    assert any("[30m]" in e for e in rows[("dash/window", 0)]["explanations"])
    assert "[60s]" in rows[("dash/right", 0)]["promql"]
    value = rows[("dash/value", 0)]
    assert value["points"]["compared"] == 2 and "[9000s:60s]" in value["promql"]
    assert any("reduced with avg" in e for e in value["explanations"])
    assert any("topk(2, …) was left out" in e for e in rows[("dash/top", 0)]["explanations"])
    short = rows[("short", 0)]
    assert short["datadog_query"].endswith(".rollup(avg, 45)") and short["step_seconds"] == 45
    assert any("does not divide the monitor window (90 s)" in e for e in short["explanations"])


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
    assert len(csv_text.splitlines()) == 1 + 14
    for content in (text, csv_text, (converted / "compare" / "compare.json").read_text(),
                    (converted / "coverage.json").read_text()):
        assert API_KEY not in content and APP_KEY not in content
    assert "diverges" in text and "missing" in text


def test_cli_only_monitors_out_label_map_and_config(prometheus, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from dd2prom.cli import app

    converted = tmp_path / "converted"
    atomic_write_json(converted / "coverage.json", synthetic.coverage())
    config = tmp_path / "compare.yaml"
    config.write_text("label_map: {queue: queue}\nitems:\n  window: {tolerance: 0.6}\n"
                      "  short: {skip: checked by hand}\n")
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.delenv("DD_SITE", raising=False)
    with cassette_vcr("none").use_cassette(str(CASSETTE)):
        result = CliRunner().invoke(app, [
            "compare", str(converted), "--prometheus-url", prometheus, "--only", "monitors",
            "--from", "2026-11-20T00:30:00Z", "--to", "2026-11-20T03:00:00Z", "--out", str(tmp_path / "cmp"),
            "--label-map", "service=service", "--config", str(config)])
    assert result.exit_code == 0, result.output    # a 60% tolerance lets the 1h window pass
    doc = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert {r["kind"] for r in doc["items"]} == {"monitor"}
    assert doc["label_map"] == {"service": "service", "queue": "queue"} and doc["summary"]["match"] == 2
    rows = {r["id"]: r for r in doc["items"]}
    assert rows["window"]["tolerance"] == 0.6 and rows["right"]["tolerance"] == 0.05
    assert rows["short"]["reason"] == "skipped by the compare config: checked by hand"
    assert not (converted / "compare").exists()
    cov = json.loads((converted / "coverage.json").read_text())
    assert next(i for i in cov["items"] if i["id"] == "right")["compare"]["file"] == str(tmp_path / "cmp" / "compare.json")


@pytest.mark.parametrize("args, env, message", [
    (["--only", "slos"], True, "--only must be monitors or widgets"),
    (["--last", "6 hours"], True, "is not a duration"),
    (["--label-map", "host"], True, "is not TAG=LABEL"),
    ([], False, "DD_API_KEY and DD_APP_KEY"),
    ([], True, "cannot query Prometheus at http://127.0.0.1:9"),
    (["--site", "mars.example"], True, "unknown Datadog site 'mars.example'"),
    (["--mappings", "BAD_MAPPINGS"], True, "a mapping file is a YAML mapping"),
    (["--config", "BAD_MAPPINGS"], True, "expected a mapping with 'label_map' and 'items'"),
])
def test_cli_bad_input_writes_nothing(tmp_path, monkeypatch, args, env, message):
    from typer.testing import CliRunner

    from dd2prom.cli import app

    atomic_write_json(tmp_path / "coverage.json", synthetic.coverage())
    (tmp_path / "bad.yaml").write_text("- a list\n")
    args = [str(tmp_path / "bad.yaml") if a == "BAD_MAPPINGS" else a for a in args]
    for k in ("DD_API_KEY", "DD_APP_KEY"):
        if env:
            monkeypatch.setenv(k, "k")
        else:
            monkeypatch.delenv(k, raising=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path), "--prometheus-url", "http://127.0.0.1:9", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "compare").exists()


def test_report_table(compared):
    from dd2prom.compare.render import report_table

    _, converted, _, _ = compared
    table = report_table(load_comparison(converted))
    assert [r[3] for r in table["rows"]][:2] == ["diverges", "diverges"]
    assert len(table["rows"]) == 11 and all(len(r) == len(table["columns"]) for r in table["rows"])
    assert "2 diverge, 3 miss series" in table["note"] and "3 not comparable" in table["note"]
    assert load_comparison(converted / "nowhere") is None
    from dd2prom.report.table import Table

    assert len(Table(**table).frame()) == 11          # drops into the report's tables as it is


def test_the_real_converter_gives_datadogs_numbers(prometheus, tmp_path, monkeypatch):
    """dd2prom convert translates monitors and widgets over the synthetic
    metrics; every translation must give Datadog's numbers and decisions. (When
    the converters record other Datadog query strings, the cassette lacks them:
    re-record with ``python -m tests.compare.make_cassettes``.)"""
    converted = synthetic.convert_snapshot(tmp_path)
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.delenv("DD_SITE", raising=False)
    with cassette_vcr("none").use_cassette(str(CASSETTE)):
        code = cli_compare(converted=converted, prometheus_url=prometheus, last=None,
                           start=str(synthetic.RANGE[0]), end=str(synthetic.RANGE[1]),
                           console=Console(record=True, width=200, stderr=True))
    rows = load_comparison(converted)["items"]
    assert {r["id"]: r["verdict"] for r in rows} == {
        "101": "match", "102": "match", "103": "match",
        "syn-thet-ic/1": "match", "syn-thet-ic/2": "match", "syn-thet-ic/3": "match"}, \
        [r["headline"] for r in rows if r["verdict"] != "match"]
    assert code == 0
    fired = {r["id"]: r["decisions"]["fired_datadog"] for r in rows if r["kind"] == "monitor"}
    assert all(n > 10 for n in fired.values()), fired      # the thresholds are crossed in the range


QUERIES = 6      # distinct Datadog queries of synthetic.coverage(), "short"'s finer rollup included


def _run_against_fake(prometheus, converted, monkeypatch, fake, concurrency):
    """compare over the synthetic coverage with Datadog served by ``fake``
    (tests.fakeapi answering /api/v1/query from the data the cassette was
    recorded from); returns (exit code, compare.json, wall seconds)."""
    import time

    from tests.fakeapi import API_KEY as FAKE_API_KEY
    from tests.fakeapi import APP_KEY as FAKE_APP_KEY
    from tests.fakeapi import serve

    monkeypatch.setenv("DD_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("DD_APP_KEY", FAKE_APP_KEY)
    monkeypatch.setenv("DD2PROM_RETRY_BASE", "0.01")
    monkeypatch.delenv("DD_SITE", raising=False)
    atomic_write_json(converted / "coverage.json", synthetic.coverage())
    with serve(fake) as url:
        began = time.perf_counter()
        code = cli_compare(converted=converted, prometheus_url=prometheus, last=None,
                           start=str(synthetic.RANGE[0]), end=str(synthetic.RANGE[1]), api_url=url,
                           console=Console(record=True, width=200, stderr=True), concurrency=concurrency)
        wall = time.perf_counter() - began
    return code, load_comparison(converted), wall


def test_concurrent_queries_overlap_and_give_the_serial_output(prometheus, compared, tmp_path, monkeypatch):
    """The same rows, in the same order, at --concurrency 1 and 8 (and as the
    cassette run); at 8 the fake Datadog serves several queries at once, so the
    wall time is about the longest chain of queries an item waits for, not
    their sum. The timings are printed (docs/compare.md has them), not asserted."""
    from tests.fakeapi import FakeDatadog

    latency = 0.2
    runs = {}
    for n in (1, 8):
        fake = FakeDatadog({}, latency=latency, query=synthetic.datadog_answer)
        code, doc, wall = _run_against_fake(prometheus, tmp_path / f"c{n}", monkeypatch, fake, n)
        runs[n] = (code, doc, wall, fake)
    (code1, serial, wall1, fake1), (code8, concurrent, wall8, fake8) = runs[1], runs[8]
    assert code1 == code8 == compared[0]
    assert concurrent["items"] == serial["items"] and concurrent["summary"] == serial["summary"]
    assert {(r["id"], r["query_index"]): r for r in serial["items"]} == compared[2]
    requests = sum(fake1.requests.values())
    assert requests == sum(fake8.requests.values()) == QUERIES        # each distinct query once
    assert fake1.max_in_flight == 1 and 1 < fake8.max_in_flight <= 8
    print(f"\n{requests} Datadog queries at {latency} s latency: --concurrency 1 {wall1:.2f} s, "
          f"--concurrency 8 {wall8:.2f} s (at most {fake8.max_in_flight} in flight)")


def test_rate_limit_and_server_errors_are_waited_out(prometheus, compared, tmp_path, monkeypatch):
    """Datadog's limit of 3 queries a second (X-RateLimit-* headers, 429 past
    it) and two 500s: the shared rate gate holds the workers until the reset
    instead of running into 429s again and again, the 500s are retried, and
    the rows are the serial run's."""
    from tests.fakeapi import FakeDatadog, Faults, RateLimit

    fake = FakeDatadog({}, rate_limit=RateLimit(3, 1.0), faults=Faults(fail={"/api/v1/query": 2}),
                       query=synthetic.datadog_answer)
    code, doc, wall = _run_against_fake(prometheus, tmp_path / "c", monkeypatch, fake, 8)
    assert code == compared[0]
    assert {(r["id"], r["query_index"]): r for r in doc["items"]} == compared[2]
    assert fake.statuses[500] == 2 and fake.statuses[200] == QUERIES
    # only the first burst, sent before any answer told the limit, can run into it
    assert fake.statuses[429] <= 8, fake.statuses
    print(f"\nrate limit 3/s: {sum(fake.statuses.values())} requests ({dict(fake.statuses)}) in {wall:.2f} s")
