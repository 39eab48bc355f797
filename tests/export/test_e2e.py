"""End to end: the real ``python -m dd2prom export`` process against the fake
Datadog API (latency, rate-limit headers, injected faults), killed with
SIGKILL twice (while paging monitors and fetching dashboards, then while
fetching synthetics tests) and resumed:
the result is identical to a fault-free export, nothing half-written remains,
nothing already stored was fetched again, and no key reached any file or log."""

from __future__ import annotations

import json
import signal
import time

from tests.export.conftest import (
    CONCURRENCY,
    ORG,
    PAGE,
    assert_no_key,
    keys,
    start,
    tree,
    without_manifest,
)
from tests.fakeapi import FakeDatadog, Faults, RateLimit, serve


def kill_when(proc, fake: FakeDatadog, waits: dict[str, int], timeout: float = 60) -> None:
    """SIGKILL the export once the fake API holds a request beyond the count on
    every given route (they hang there, see Faults.hang)."""
    deadline = time.monotonic() + timeout
    while any(fake.requests[route] <= count for route, count in waits.items()):
        assert proc.poll() is None, "export ended before it could be killed"
        assert time.monotonic() < deadline, f"not every route of {waits} was reached"
        time.sleep(0.01)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def test_kill_and_resume_gives_the_fault_free_snapshot(reference, tmp_path):
    reference, reference_log = reference
    out, log = tmp_path / "snap", tmp_path / "export.log"
    faults = Faults(fail={f"/api/v1/dashboard/{ORG['dashboards'][30]['id']}": 1}, rate_limit_once=["/api/v1/slo"],
                    hang={"/api/v1/monitor": 2, "/api/v1/dashboard/{id}": 10})
    fake = keys(FakeDatadog(ORG, latency=0.005, rate_limit=RateLimit(70, 1), faults=faults))
    synthetics_detail = "/api/v1/synthetics/tests/{type}/{id}"
    with serve(fake) as url:
        # run 1: killed while the third page of monitors and the eleventh
        # dashboard are in flight (both lanes run side by side)
        kill_when(start(out, url, log), fake, {"/api/v1/monitor": 2, "/api/v1/dashboard/{id}": 10})
        # the second page may still have been being written: pages load one ahead
        assert PAGE <= len(list((out / "monitors").glob("*.json"))) <= 2 * PAGE
        assert 0 < len(list((out / "dashboards").glob("*.json"))) <= 10
        assert (out / ".export-state" / "monitors.json").exists()
        # run 2: resumes both, killed while synthetics tests are fetched
        fake.faults.hang = {synthetics_detail: 3}
        fake.released.set()
        fake.released.clear()
        kill_when(start(out, url, log), fake, {synthetics_detail: 3})
        assert len(list((out / "dashboards").glob("*.json"))) == len(ORG["dashboards"])
        # run 3: completes
        fake.release()
        assert start(out, url, log).wait(120) == 0, log.read_text()[-3000:]

    got, want = tree(out), tree(reference)
    assert sorted(got) == sorted(want)               # no temp or state files left, nothing missing
    assert without_manifest(got) == without_manifest(want)
    pages = -(-len(ORG["monitors"]) // PAGE)
    # resumed from the checkpoints: nothing stored is fetched again; the extra
    # requests are those in flight (or being written) at the kills, and the injected 500
    assert fake.requests["/api/v1/monitor"] <= pages + 2
    assert fake.requests["/api/v1/dashboard/{id}"] <= len(ORG["dashboards"]) + CONCURRENCY + 1
    assert fake.requests[synthetics_detail] <= len(ORG["synthetics"]) + CONCURRENCY
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["errors"] == []
    assert manifest["counts"]["dashboards"] == len(ORG["dashboards"])

    # keys never reach a file or a log line (debug logging was on)
    assert_no_key(log.read_bytes(), reference_log.read_bytes(), *tree(out).values(), *tree(reference).values())


def test_keys_absent_from_files_and_logs_of_a_failing_export(tmp_path):
    """Errors carry messages from the server; none may carry a key."""
    out, log = tmp_path / "snap", tmp_path / "export.log"
    fake = keys(FakeDatadog(ORG, faults=Faults(forbidden=["/api/v1/slo"], poison_monitors=[ORG["monitors"][3]["id"]])))
    with serve(fake) as url:
        assert start(out, url, log).wait(120) == 1
    assert_no_key(log.read_bytes(), *tree(out).values())
    assert b"error" in log.read_bytes()
