"""Test helpers shared by every test area: where ../shared is, free ports,
waiting for a real server started on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DD2PROM_SHARED", REPO.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_dir(*parts: str) -> Path:
    """A folder under ../shared; skips the test when it is absent, except in CI,
    where its absence is a failure."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing in CI")
        pytest.skip(f"{path} not present (set DD2PROM_SHARED to the shared folder; CI=true makes this a failure)")
    return path


def crd_dir() -> Path:
    return shared_dir("schemas", "prometheus-operator")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up in {timeout}s: {last}")


def require_binary(name: str) -> str:
    import shutil

    path = shutil.which(name)
    if not path:
        if IN_CI:
            pytest.fail(f"{name} is not installed (scripts/install-test-deps.sh installs it)")
        pytest.skip(f"{name} not installed")
    return path


@contextmanager
def running(cmd: Sequence[str], ready_url: str, log: Path, timeout: float = 30.0) -> Iterator[subprocess.Popen]:
    """Start a real server process, wait for its HTTP endpoint, stop it afterwards."""
    with open(log, "wb") as fh:
        proc = subprocess.Popen(list(cmd), stdout=fh, stderr=subprocess.STDOUT)
        try:
            try:
                wait_http(ready_url, timeout)
            except TimeoutError:
                proc.kill()
                raise RuntimeError(f"{cmd[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
