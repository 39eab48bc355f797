"""convert runs with the cyclic garbage collector off (pipeline.run_convert):
that is only safe while converting makes (almost) no reference cycles, which
would then pile up until the run ends. A cycle per item fails this test."""

from __future__ import annotations

import gc

from bench.synth_org import generate, write_snapshot
from dd2prom.convert import ConvertOptions, run_convert


def test_convert_leaves_no_cycles_behind(tmp_path):
    # a first run imports and builds what every run shares (classes are cycles)
    run_convert(write_snapshot(generate(50, 5, seed=3), tmp_path / "warm"), tmp_path / "warm-out", ConvertOptions(jobs=1))
    snap = write_snapshot(generate(800, 80, seed=3), tmp_path / "snap")
    gc.collect()
    ctx = run_convert(snap, tmp_path / "out", ConvertOptions(jobs=1))
    items = len(ctx.ledger)
    assert gc.isenabled()   # back on after the run
    del ctx
    assert items > 4000
    assert gc.collect() < 1000   # found: 0-350 objects, whatever the size of the org
