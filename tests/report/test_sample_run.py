"""The README's main command on the bundled sample organisation: convert, then report."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dd2prom.cli import app
from dd2prom.resources import sample_org_dir


def test_convert_then_report_on_the_sample_org(tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    converted = runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out)])
    assert converted.exit_code in (0, 1), converted.output
    items = json.loads((out / "coverage.json").read_text())["items"]
    result = runner.invoke(app, ["report", str(sample_org_dir()), "--converted", str(out), "--out", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "sample-org"
    html = (folder / "report.html").read_text()
    assert f"<div class=\"big\">{len(items)}</div>" in html
    assert "$478.05/month" in html            # 12 hosts x 25 containers on Pro


def test_report_has_a_comparison_section_when_compare_ran(tmp_path):
    from dd2prom.snapshot import atomic_write_json

    runner = CliRunner()
    out = tmp_path / "out"
    runner.invoke(app, ["convert", str(sample_org_dir()), "--out", str(out)])
    atomic_write_json(out / "compare" / "compare.json", {
        "range": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T06:00:00Z"}, "tolerance": 0.05,
        "summary": {"match": 1, "diverges": 1},
        "items": [
            {"kind": "monitor", "id": "41250001", "name": "Node CPU", "query_index": 0, "verdict": "diverges",
             "series": {"datadog": 12, "prometheus": 12, "matched": 12},
             "relative_error": {"median": 0.31, "max": 0.5}, "decisions": {"steps": 438, "agree": 380},
             "headline": "rate window differs"},
            {"kind": "monitor", "id": "41250002", "name": "Disk", "query_index": 0, "verdict": "match",
             "series": {"datadog": 12, "prometheus": 12, "matched": 12},
             "relative_error": {"median": 0.0, "max": 0.001}, "decisions": {"steps": 438, "agree": 438},
             "headline": ""},
        ]})
    result = runner.invoke(app, ["report", str(sample_org_dir()), "--converted", str(out), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "r" / "sample-org"
    html = (folder / "report.html").read_text()
    md = (folder / "report.md").read_text()
    assert "Translations checked against Datadog" in html and "rate window differs" in html
    assert "Translations checked against Datadog" in md
    assert (folder / "comparison.csv").is_file()
