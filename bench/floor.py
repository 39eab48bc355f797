"""The floor `dd2prom convert` is compared with: the least any converter must do.

Load every JSON file of a snapshot (orjson, as convert does) and write
``out_bytes`` in ``out_files`` files. bench_convert.py runs this file as a
program of its own, timed the way convert is timed (the wall time of the
process, from start to exit): both pay for starting Python and for a fresh
process's memory. Rounds 4-7 timed ``floor()`` inside the bench's own
process instead, already running, its heap warm from the runs before; that
left out about 0.2 s convert always pays (see docs/performance.md, round 8).

    python bench/floor.py SNAPSHOT SCRATCH OUT_FILES OUT_BYTES

prints the seconds ``floor()`` took inside the process. Only the standard
library and orjson are imported, so the program starts as quickly as Python can.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import orjson


def floor(snapshot: Path, out_files: int, out_bytes: int, scratch: Path) -> float:
    """Seconds to load the snapshot and write the bytes. (Rounds 1-3 made the
    bytes with the standard library's json.dumps(indent=2), pure Python:
    1.2-1.6 s of serialising that flattered the ratio.)"""
    t0 = time.perf_counter()
    objs = [orjson.loads(p.read_bytes()) for p in sorted(snapshot.rglob("*.json"))]
    per, rest = divmod(out_bytes, max(1, out_files))
    text = orjson.dumps(objs[:200], option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    block = (text * (per // max(1, len(text)) + 2))[:per + 1]
    scratch.mkdir(parents=True, exist_ok=True)
    for i in range(out_files):
        (scratch / f"{i}.json").write_bytes(block[:per + (1 if i < rest else 0)])
    return time.perf_counter() - t0


if __name__ == "__main__":
    snap, scratch, files, size = sys.argv[1:5]
    print(f"{floor(Path(snap), int(files), int(size), Path(scratch)):.4f}")
