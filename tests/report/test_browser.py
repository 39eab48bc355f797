"""The HTML report renders in headless Chromium from a file URL without errors, and a
screenshot is taken (kept under the test's tmp folder for a human to look at)."""

from __future__ import annotations

import subprocess

from typer.testing import CliRunner

from dd2prom.cli import app
from dd2prom.resources import sample_org_dir
from tests.report.fixtures import write_converted
from tests.support import require_binary

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(binary, tmp_path, *args):
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def test_report_renders_in_headless_chromium(tmp_path):
    binary = require_binary("chromium")
    converted = write_converted(tmp_path / "out")
    result = CliRunner().invoke(app, ["report", str(sample_org_dir()), "--converted", str(converted),
                                      "--out", str(tmp_path / "reports"), "--name", "sample"])
    assert result.exit_code == 0, result.output
    url = (tmp_path / "reports" / "sample" / "report.html").resolve().as_uri()

    dom = chromium(binary, tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Migration plan: sample" in dom.stdout
    assert dom.stdout.count("<svg") == 2 and "Monthly cost against containers per host" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console

    png = tmp_path / "report.png"
    shot = chromium(binary, tmp_path, "--screenshot=" + str(png), "--window-size=1400,3000", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
