"""What the process-level export tests share: one organisation, keys made up
per session, the real ``python -m dd2prom -v export`` process, and a
fault-free reference export of that organisation (session scope: built once)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from bench.synth_org import generate
from tests.fakeapi import FakeDatadog, serve
from tests.support import REPO

ORG = generate(120, 40, seed=5, n_slos=10, n_synthetics=8, n_downtimes=5)
PAGE = 25
CONCURRENCY = 4
KEYS = {"DD_API_KEY": "e2e" + secrets.token_hex(16), "DD_APP_KEY": "e2e" + secrets.token_hex(20)}


def start(out: Path, url: str, log: Path, **env: str) -> subprocess.Popen:
    """``python -m dd2prom -v export`` in the background, output appended to ``log``."""
    env = {**os.environ, **KEYS, "DD2PROM_PAGE_SIZE": str(PAGE), "DD2PROM_RETRY_BASE": "0.05", **env}
    env.pop("DD_SITE", None)
    cmd = [sys.executable, "-m", "dd2prom", "-v", "export", "--out", str(out), "--api-url", url,
           "--no-progress", "--concurrency", str(CONCURRENCY)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path → bytes), hidden ones included."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_manifest(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k != "manifest.json"}


def keys(fake: FakeDatadog) -> FakeDatadog:
    """The fake API expecting this session's keys."""
    fake.keys = (KEYS["DD_API_KEY"], KEYS["DD_APP_KEY"])
    return fake


def assert_no_key(*texts: bytes | str) -> None:
    for text in texts:
        text = text.encode() if isinstance(text, str) else text
        for name, key in KEYS.items():
            assert key.encode() not in text, f"{name} leaked"


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """A fault-free export of ORG (snapshot folder, its log)."""
    out = tmp_path_factory.mktemp("reference")
    log = out / "export.log"
    with serve(keys(FakeDatadog(ORG))) as url:
        assert start(out / "snap", url, log).wait(120) == 0, log.read_text()
    return out / "snap", log
