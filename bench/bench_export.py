"""Export benchmark (numbers, not a test; not run in CI).

Starts the fake Datadog API as its own process with a synthetic organisation
(default 20,000 monitors and 2,000 dashboards of ~30 widgets), 50 ms latency
per request and a fixed-window rate limit, runs the real
``python -m dd2prom export`` against it and prints requests made, wall time,
and the ratio to the floor the rate limit sets (requests / allowed rate).

    python bench/bench_export.py [--monitors 20000] [--dashboards 2000] [--latency 0.05] [--rate-limit 1000/10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakeapi import API_KEY, APP_KEY
from tests.support import free_port, wait_http


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--monitors", type=int, default=20000)
    p.add_argument("--dashboards", type=int, default=2000)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--rate-limit", default="1000/10", help="LIMIT/PERIOD seconds")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--keep", action="store_true", help="keep the snapshot folder")
    a = p.parse_args()
    limit, period = (float(x) for x in a.rate_limit.split("/"))

    port = free_port()
    # under out/ (git-ignored) rather than /tmp: this machine's /tmp is ~3x slower at file creation
    (REPO / "out").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=REPO / "out"))
    server = subprocess.Popen([sys.executable, "-m", "tests.fakeapi", "--port", str(port), "--monitors", str(a.monitors),
                               "--dashboards", str(a.dashboards), "--latency", str(a.latency),
                               "--rate-limit", a.rate_limit, "--seed", "1"], cwd=REPO)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/__stats", timeout=120)
        env = {**os.environ, "DD_API_KEY": API_KEY, "DD_APP_KEY": APP_KEY}
        t0 = time.monotonic()
        rc = subprocess.run([sys.executable, "-m", "dd2prom", "export", "--out", str(work / "snap"), "--api-url", url,
                             "--no-progress", "--concurrency", str(a.concurrency)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=(work / "export.log").open("wb")).returncode
        wall = time.monotonic() - t0
        with urllib.request.urlopen(url + "/__stats") as r:
            stats = json.load(r)
        manifest = json.loads((work / "snap" / "manifest.json").read_text())
    finally:
        server.terminate()
        server.wait(10)
    requests = stats["total"]
    floor = requests / (limit / period)
    result = {
        "organisation": {"monitors": a.monitors, "dashboards": a.dashboards},
        "latency_s": a.latency, "rate_limit": f"{int(limit)} per {period:g}s", "concurrency": a.concurrency,
        "exit_code": rc, "requests": requests, "http_429": stats["statuses"].get("429", 0),
        "by_route": stats["requests"], "files": manifest["counts"], "errors": len(manifest["errors"]),
        "seconds_by_kind": {k: r["seconds"] for k, r in manifest["run"].items()},
        "wall_s": round(wall, 1), "rate_limit_floor_s": round(floor, 1), "ratio_to_floor": round(wall / floor, 2),
    }
    print(json.dumps(result, indent=2))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"snapshot kept in {work / 'snap'}", file=sys.stderr)


if __name__ == "__main__":
    main()
