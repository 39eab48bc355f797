"""No key in anything export, convert or report write: every file, stdout,
stderr and ``-v`` debug log, and the error messages of failed requests, even
when Datadog's answer echoes the request headers (keys included) back.

The keys stay in the environment for convert and report too: neither may copy
the environment anywhere. Besides each whole key, its first 16 characters are
searched: a message shortened in the middle of a key must not leak a prefix.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.synth_org import generate
from tests.export.conftest import KEYS, keys, tree
from tests.fakeapi import FakeDatadog, Faults, serve
from tests.support import REPO

ORG = generate(30, 6, seed=7, n_slos=4, n_synthetics=4, n_downtimes=3)


def dd2prom(*args: str, tmp: Path, name: str) -> tuple[int, bytes, bytes]:
    """Run ``python -m dd2prom -v ARGS``; (exit code, stdout, stderr), also kept in tmp/logs."""
    env = {**os.environ, **KEYS, "DD2PROM_RETRY_BASE": "0", "DD2PROM_ATTEMPTS": "2", "DD2PROM_PAGE_SIZE": "10"}
    env.pop("DD_SITE", None)
    proc = subprocess.run([sys.executable, "-m", "dd2prom", "-v", *args], check=False, cwd=REPO, env=env,
                          capture_output=True, timeout=300)
    (tmp / "logs").mkdir(exist_ok=True)
    (tmp / "logs" / f"{name}.out").write_bytes(proc.stdout)
    (tmp / "logs" / f"{name}.err").write_bytes(proc.stderr)
    return proc.returncode, proc.stdout, proc.stderr


def leaks(blob: bytes) -> list[str]:
    return [name for name, key in KEYS.items() for part in (key, key[:16]) if part.encode() in blob]


def test_no_key_in_any_output_of_export_convert_and_report(tmp_path):
    dash = [f"/api/v1/dashboard/{d['id']}" for d in ORG["dashboards"]]
    faults = Faults(echo_headers=["/api/v1/slo", dash[0]], fail={dash[1]: 5}, truncate={dash[2]: 1},
                    cut={dash[3]: 5}, poison_monitors=[ORG["monitors"][4]["id"]])
    snap, conv = tmp_path / "snap", tmp_path / "conv"
    with serve(keys(FakeDatadog(ORG, faults=faults))) as url:
        code, _, _ = dd2prom("export", "--out", str(snap), "--api-url", url, "--no-progress", tmp=tmp_path, name="export")
    assert code == 1
    manifest = json.loads((snap / "manifest.json").read_text())
    failed = {(e["kind"], e["id"]) for e in manifest["errors"]}
    assert {("slos", None), ("dashboards", ORG["dashboards"][0]["id"]), ("dashboards", ORG["dashboards"][1]["id"]),
            ("dashboards", ORG["dashboards"][3]["id"]), ("monitors", "offset 4")} <= failed, failed
    echoed = next(e["message"] for e in manifest["errors"] if e["kind"] == "slos")
    assert "dd-api-key" in echoed and "***" in echoed        # the echo is there, its keys are not

    code, _, _ = dd2prom("convert", str(snap), "--out", str(conv), tmp=tmp_path, name="convert")
    assert code in (0, 1) and (conv / "coverage.json").exists()
    code, _, _ = dd2prom("report", str(snap), "--converted", str(conv), "--out", str(tmp_path / "reports"),
                         tmp=tmp_path, name="report")
    assert code == 0 and any((tmp_path / "reports").rglob("*"))

    files = tree(tmp_path)          # the snapshot, convert output, reports and every log
    assert len(files) > 100
    found = {path: leaks(blob) for path, blob in files.items() if leaks(blob)}
    assert not found, found
