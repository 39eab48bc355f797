"""Property: whatever the schedule of transient faults (500s, bodies shorter
than their Content-Length, bodies cut mid-JSON: one to three in a row on any
list page or object, so some outlast the retries; monitors no page holding
them can be served) and wherever the run
crashes, the export writes only whole objects identical to Datadog's, names
every object it is missing, and a fault-free rerun gives exactly the
fault-free snapshot.

In-process (a crash is an exception out of every API call from a given call
on, which stops the runner where it stands; the real ``kill -9`` is in
test_random_kills.py), so hypothesis can try many schedules quickly.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.synth_org import generate
from dd2prom.export.command import ExportOptions, export
from dd2prom.export.client import Datadog
from tests.export.conftest import tree, without_manifest
from tests.fakeapi import API_KEY, APP_KEY, FakeDatadog, Faults, serve

ORG = generate(30, 6, seed=13, n_slos=3, n_synthetics=4, n_downtimes=3)
KINDS = ["monitors", "dashboards", "synthetics", "downtimes"]
PATHS = ([f"/api/v1/monitor?page={n}&page_size=10" for n in range(4)] + ["/api/v1/dashboard", "/api/v2/downtime"]
         + [f"/api/v1/dashboard/{d['id']}" for d in ORG["dashboards"]]
         + [f"/api/v1/synthetics/tests/{t['type']}/{t['public_id']}" for t in ORG["synthetics"]])
FAULTS = st.dictionaries(st.sampled_from(PATHS), st.tuples(st.sampled_from(["fail", "truncate", "cut"]),
                                                          st.integers(1, 3)), max_size=6)


class Crash(BaseException):
    """The process dies: no handler of the runner may catch it."""


def run(out: Path, url: str) -> dict:
    return export(ExportOptions(out=out, kinds=KINDS, page_size=10, concurrency=3),
                  site=None, api_url=url, api_key=API_KEY, app_key=APP_KEY)


@functools.cache
def reference() -> dict[str, bytes]:
    """The fault-free snapshot (not a fixture: hypothesis would print it with every failing example)."""
    out = Path(tempfile.mkdtemp(prefix="reference-"))
    with serve(FakeDatadog(ORG)) as url:
        assert run(out, url)["complete"]
    files = without_manifest(tree(out))
    shutil.rmtree(out)
    return files


def differences(got: dict[str, bytes], want: dict[str, bytes]) -> list[str]:
    """Paths missing, extra or different (short failure messages)."""
    return sorted(p for p in got.keys() | want.keys() if got.get(p) != want.get(p))


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("DD2PROM_RETRY_BASE", "0")
    monkeypatch.setenv("DD2PROM_ATTEMPTS", "2")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=FAULTS, poisoned=st.lists(st.sampled_from([m["id"] for m in ORG["monitors"]]), max_size=2),
       crash_at=st.one_of(st.none(), st.integers(1, 60)))
@example(schedule={}, poisoned=[1002], crash_at=21)   # found by this test: a list that lost an object, then a crash
def test_any_fault_schedule_then_a_clean_rerun(monkeypatch, schedule, poisoned, crash_at):
    want = reference()
    out = Path(tempfile.mkdtemp(prefix="faults-"))
    faults = Faults(poison_monitors=poisoned)     # pages holding them always fail: the list loses them
    for path, (how, n) in schedule.items():
        getattr(faults, how)[path] = n
    calls, lock, real_call = [0], threading.Lock(), Datadog.call

    def call(self, fn, **kwargs):
        with lock:
            calls[0] += 1
            if crash_at is not None and calls[0] >= crash_at:
                raise Crash
        return real_call(self, fn, **kwargs)

    with serve(FakeDatadog(ORG, faults=faults)) as url:
        with monkeypatch.context() as m:
            m.setattr(Datadog, "call", call)
            try:
                manifest = run(out, url)
            except Crash:
                manifest = None
        got = tree(out)
        assert not [p for p in got if p.endswith(".tmp")]
        for path, blob in without_manifest(got).items():
            if path.startswith(".export-state/"):
                assert manifest is None, "state left by a run that ended"
                continue
            # a synthetics test whose detail failed keeps its list entry (named in the errors)
            list_entry = path.startswith("synthetics/") and (manifest is None or any(
                path == f"synthetics/{e['id']}.json" for e in manifest["errors"]))
            assert blob == want.get(path) or list_entry, path
        if manifest is not None:      # every missing object is named
            missing = {p.split("/")[0] for p in set(want) - set(got)}
            assert missing <= {e["kind"] for e in manifest["errors"]}, (missing, manifest["errors"])
            assert manifest["complete"] == (not manifest["errors"] and got.keys() >= want.keys())
    with serve(FakeDatadog(ORG)) as url:
        manifest = run(out, url)
    got = without_manifest(tree(out))
    shutil.rmtree(out)
    assert manifest["complete"] and manifest["errors"] == [], (manifest["errors"], manifest["run"])
    assert differences(got, want) == []
