"""``kill -9`` at random points, with random faults on every request.

The real ``python -m dd2prom export`` process runs against the fake API with
seeded chaos (500s, 429s, bodies shorter than their Content-Length, bodies cut
mid-JSON, stalls beyond the client's timeout) and is SIGKILLed after a random
delay, a few times in a row, each run resuming the last. A final fault-free
rerun must leave the snapshot byte-identical to a fault-free export (manifest
aside) with no temporary or state file, and no key in any file or log.

``DD2PROM_FAULT_SEED`` replays a failing schedule (the seed is in the assertion
messages).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

from tests.export.conftest import (
    ORG,
    assert_no_key,
    keys,
    start,
    tree,
    without_manifest,
)
from tests.fakeapi import FakeDatadog, Faults, RateLimit, serve

SEED = int(os.environ.get("DD2PROM_FAULT_SEED", "9"))
KILLS = 4
TIMEOUT = "0.4"           # client timeout (s); chaos stalls last longer
ENV = {"DD2PROM_TIMEOUT": TIMEOUT, "DD2PROM_ATTEMPTS": "3", "DD2PROM_RETRY_BASE": "0.02"}


def test_random_kills_under_chaos_then_a_clean_rerun(reference, tmp_path):
    reference, _ = reference
    rng = random.Random(SEED)
    out, log = tmp_path / "snap", tmp_path / "export.log"
    chaos = {"rate": 0.12, "seed": SEED, "stall": 0.6}
    fake = keys(FakeDatadog(ORG, latency=0.01, rate_limit=RateLimit(200, 1), faults=Faults(chaos=chaos)))
    schedule = []
    with serve(fake) as url:
        for _ in range(KILLS):
            delay = rng.uniform(0.3, 2.0)
            proc = start(out, url, log, **ENV)
            time.sleep(delay)
            running = proc.poll() is None
            proc.send_signal(signal.SIGKILL)
            schedule.append((round(delay, 2), "killed" if running else f"ended {proc.wait(10)}"))
            proc.wait(10)
        fake.faults.chaos = {}
        code = start(out, url, log, **ENV).wait(120)
    what = f"seed {SEED}, kills {schedule}, faults {dict(fake.injected)}"
    assert code == 0, f"{what}\n{log.read_text()[-3000:]}"
    assert sum(s == "killed" for _, s in schedule) >= 1, what      # timing decides how many land mid-run (most do)
    got, want = tree(out), tree(reference)
    assert sorted(got) == sorted(want), what        # no temp or state file left, nothing missing
    assert without_manifest(got) == without_manifest(want), what
    manifest = json.loads(got["manifest.json"])
    assert manifest["complete"] and manifest["errors"] == [], what
    assert_no_key(log.read_bytes(), *got.values())
