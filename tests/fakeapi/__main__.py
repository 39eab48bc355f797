"""python -m tests.fakeapi: serve a generated organisation until killed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.synth_org import generate
from tests.fakeapi import FakeDatadog, Faults, RateLimit, make_server


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--monitors", type=int, default=100)
    p.add_argument("--dashboards", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    p.add_argument("--rate-limit", default="", help="LIMIT/PERIOD_SECONDS, e.g. 1000/10")
    p.add_argument("--faults", type=Path, help="JSON file of tests.fakeapi.Faults fields")
    a = p.parse_args()
    rate = None
    if a.rate_limit:
        limit, period = a.rate_limit.split("/")
        rate = RateLimit(int(limit), float(period))
    faults = Faults(**json.loads(a.faults.read_text())) if a.faults else Faults()
    fake = FakeDatadog(generate(a.monitors, a.dashboards, a.seed), latency=a.latency, rate_limit=rate, faults=faults)
    server = make_server(fake, a.port)
    print(f"fake Datadog API on http://127.0.0.1:{a.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
