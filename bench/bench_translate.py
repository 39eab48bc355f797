#!/usr/bin/env python3
"""Queries per second of the transpiler over the corpus queries
($DD2PROM_SHARED/corpus, else ../shared/corpus, or a snapshot folder given as argument).

    python bench/bench_translate.py [CORPUS_DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dd2prom.convert.queries import TranslateContext, translate, translate_formula  # noqa: E402
from dd2prom.convert.queries.mapping import load_mappings  # noqa: E402
from tests.queries.corpus import iter_queries  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    shared = os.environ.get("DD2PROM_SHARED") or Path(__file__).resolve().parents[2] / "shared"
    ap.add_argument("corpus", nargs="?", default=str(Path(shared) / "corpus"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    queries = list(iter_queries(Path(args.corpus)))
    if not queries:
        sys.exit(f"no queries under {args.corpus}")
    t0 = time.perf_counter()
    mappings = load_mappings(None)
    load_s = time.perf_counter() - t0
    contexts = {k: TranslateContext(target=k, mappings=mappings) for k in ("monitor", "dashboard")}
    counts: Counter = Counter()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        for q in queries:
            ctx = contexts["monitor" if q.kind == "monitor" else "dashboard"]
            if q.kind == "formula":
                r = translate_formula(q.query, q.queries, ctx=ctx)
            else:
                r = translate(q.query, monitor=q.kind == "monitor", ctx=ctx)
            counts[r.status.value] += 1
        times.append(time.perf_counter() - t0)
    cold, warm = times[0], min(times)
    print(f"mapping tables loaded in {load_s * 1000:.0f} ms")
    print(f"{len(queries)} queries; first pass (cold parse cache) {cold:.3f} s = {len(queries) / cold:,.0f} queries/s; "
          f"best of {args.repeat} {warm:.3f} s = {len(queries) / warm:,.0f} queries/s")
    print("statuses:", dict(sorted((k, v // args.repeat) for k, v in counts.items())))


if __name__ == "__main__":
    main()
