"""convert runs with the cyclic garbage collector off (pipeline.run_convert):
that is only safe while converting makes (almost) no reference cycles, which
would then pile up until the run ends. A cycle per item fails this test."""

from __future__ import annotations

import gc
import logging

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


class _Unpicklable:
    def __init__(self, n: int) -> None:
        self.n = n

    def __reduce__(self):
        raise TypeError("not picklable")


def _n(ictx, item: _Unpicklable) -> int:
    return item.n


def test_a_chunk_redone_in_process_keeps_nothing_alive(tmp_path, monkeypatch):
    """A chunk that fails in the pool (a worker died, an input could not be
    pickled) is converted again in the parent: the failed future's exception
    must not keep the conversion (the context, the whole run) in a cycle."""
    import weakref

    from dd2prom.convert import parallel
    from dd2prom.convert.context import ConvertContext
    from dd2prom.emit.output import OutputDir
    from dd2prom.snapshot import Snapshot

    monkeypatch.setattr(parallel, "CHUNK", 2)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 2)
    # (pytest keeps log records, whose arguments would keep the exception alive)
    monkeypatch.setattr(logging.getLogger("dd2prom.convert"), "disabled", True)
    gc.disable()   # as during a run
    try:
        with OutputDir(tmp_path / "out") as out:
            ctx = ConvertContext(snapshot=Snapshot.open(tmp_path), out=out, options=ConvertOptions(jobs=2))
            inputs = [_Unpicklable(n) for n in range(6)]
            results = [result for _, result in parallel.convert_items(ctx, _n, inputs)]
            alive = weakref.ref(ctx)
            del ctx
        assert [r.error for r in results] == ["TypeError: not picklable"] * 6   # each item's error
        assert alive() is None
    finally:
        gc.enable()


def test_error_items_leave_no_cycles_behind(tmp_path, monkeypatch):
    """Items that fail (an exception with its traceback, turned into status
    error by ctx.guard) and unreadable files must not leave a cycle each either."""
    import itertools

    from dd2prom.convert import dashboards, monitors
    from dd2prom.model import Status

    def every_other_fails(convert):
        calls = itertools.count()

        def failing(*args, **kwargs):
            if next(calls) % 2:
                raise ValueError("broken on purpose")
            return convert(*args, **kwargs)
        return failing

    monkeypatch.setattr(monitors, "convert_one", every_other_fails(monitors.convert_one))
    monkeypatch.setattr(dashboards, "convert_one", every_other_fails(dashboards.convert_one))
    run_convert(write_snapshot(generate(20, 4, seed=3), tmp_path / "warm"), tmp_path / "warm-out", ConvertOptions(jobs=1))
    snap = write_snapshot(generate(300, 40, seed=3), tmp_path / "snap")
    for i in range(50):
        (snap / "monitors" / f"broken{i}.json").write_text('{"name": "half')
        (snap / "dashboards" / f"broken{i}.json").write_text("[1,")
    gc.collect()
    ctx = run_convert(snap, tmp_path / "out", ConvertOptions(jobs=1))
    errors = sum(item.status is Status.ERROR for item in ctx.ledger)
    del ctx
    assert errors >= 250   # half the monitors and dashboards, and the 100 unreadable files
    assert gc.collect() < 1000
