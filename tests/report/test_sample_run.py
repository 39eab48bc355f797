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
