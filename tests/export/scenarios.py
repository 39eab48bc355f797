"""Fault scenarios recorded as vcrpy cassettes against the fake Datadog API.

``python -m tests.export.scenarios`` (re)records tests/export/cassettes/*.yaml
(needed after a change to bench/synth_org.py: the tests compare with its output);
the tests replay them with record_mode "none". Record and replay run the same
export with the same retry settings, so they make the same requests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import vcr

from bench.synth_org import generate
from dd2prom.export.command import ExportOptions, export
from tests.fakeapi import API_KEY, APP_KEY, FakeDatadog, Faults, serve

CASSETTES = Path(__file__).parent / "cassettes"
ENV = {"DD2PROM_ATTEMPTS": "2", "DD2PROM_RETRY_BASE": "0"}   # quick, and identical on replay
KEY_HEADERS = ["DD-API-KEY", "DD-APPLICATION-KEY"]


def org() -> dict[str, list[dict[str, Any]]]:
    return generate(25, 4, seed=3, n_slos=7, n_synthetics=6, n_downtimes=7)


@dataclass
class Scenario:
    kinds: list[str]
    page_size: int = 10
    faults: Faults = field(default_factory=Faults)


def _scenarios() -> dict[str, Scenario]:
    o = org()
    dash = [f"/api/v1/dashboard/{d['id']}" for d in o["dashboards"]]
    return {
        # every paged list over several pages of 3
        "paging": Scenario(["monitors", "dashboards", "slos", "synthetics", "downtimes"], page_size=3),
        "rate_limit": Scenario(["monitors"], faults=Faults(rate_limit_once=["/api/v1/monitor"])),
        "server_error": Scenario(["dashboards"], faults=Faults(fail={dash[1]: 1})),
        "poisoned_page": Scenario(["monitors"], faults=Faults(poison_monitors=[o["monitors"][12]["id"]])),
        "forbidden_dashboard": Scenario(["dashboards"], faults=Faults(forbidden=[dash[2]])),
    }


SCENARIOS = _scenarios()


def recorder(mode: str) -> vcr.VCR:
    return vcr.VCR(record_mode=mode, match_on=["method", "path", "query"], filter_headers=KEY_HEADERS,
                   decode_compressed_response=True)


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(name: str, out: Path, api_url: str, mode: str) -> dict[str, Any]:
    """Export scenario ``name`` into ``out`` through the cassette (recording or replaying)."""
    sc = SCENARIOS[name]
    options = ExportOptions(out=out, kinds=sc.kinds, page_size=sc.page_size, concurrency=1)
    with _env(ENV), recorder(mode).use_cassette(str(CASSETTES / f"{name}.yaml")):
        return export(options, site=None, api_url=api_url, api_key=API_KEY, app_key=APP_KEY)


def record_all() -> None:
    CASSETTES.mkdir(parents=True, exist_ok=True)
    for name, sc in SCENARIOS.items():
        (CASSETTES / f"{name}.yaml").unlink(missing_ok=True)
        out = Path(tempfile.mkdtemp())
        try:
            with serve(FakeDatadog(org(), faults=sc.faults)) as url:
                manifest = run(name, out, url, "all")
            print(name, manifest["counts"], len(manifest["errors"]), "errors", manifest["requests"])
        finally:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    record_all()
