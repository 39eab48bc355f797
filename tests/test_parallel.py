"""Converting on several processes writes exactly what a serial run writes, and
an item that fails in a worker fails alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synth_org import generate, write_snapshot
from dd2prom.convert import ConvertOptions, parallel, run_convert
from dd2prom.convert.dashboards import DashboardConverter
from dd2prom.resources import sample_org_dir
from dd2prom.convert.pipeline import coverage_document
from dd2prom.snapshot import dumpb, dumps


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of two items, parallel from two items on: small orgs use the pool."""
    monkeypatch.setattr(parallel, "CHUNK", 2)
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 2)
    monkeypatch.setattr(parallel, "IN_FLIGHT_PER_JOB", 1)


@pytest.fixture(scope="module")
def synthetic_org(tmp_path_factory) -> Path:
    return write_snapshot(generate(80, 10, seed=3), tmp_path_factory.mktemp("org") / "snapshot")


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_trees(a: Path, b: Path) -> None:
    ta, tb = tree(a), tree(b)
    assert sorted(ta) == sorted(tb)
    different = [rel for rel in ta if ta[rel] != tb[rel]]
    assert not different, f"files differ between serial and parallel runs: {different[:10]}"


@pytest.mark.parametrize("org", ["sample", "synthetic"])
def test_parallel_output_is_byte_identical_to_serial(org, synthetic_org, small_chunks, tmp_path):
    snapshot = sample_org_dir() if org == "sample" else synthetic_org
    serial = run_convert(snapshot, tmp_path / "serial", ConvertOptions(jobs=1))
    par = run_convert(snapshot, tmp_path / "parallel", ConvertOptions(jobs=3))
    assert serial.shared.get("errors", []) == par.shared.get("errors", []) == []
    assert len(serial.ledger) > 20
    assert_same_trees(tmp_path / "serial", tmp_path / "parallel")
    # the widget rows' text made in the workers is what serialising the rows here gives
    assert (tmp_path / "parallel" / "coverage.json").read_bytes() == dumpb(coverage_document(par))


def test_a_failing_dashboard_fails_alone_in_a_worker(synthetic_org, small_chunks, monkeypatch, tmp_path):
    victim = sorted((synthetic_org / "dashboards").glob("*.json"))[3].stem
    build = DashboardConverter.build

    def broken(self):
        if self.id == victim:
            raise RuntimeError("boom")
        return build(self)

    monkeypatch.setattr(DashboardConverter, "build", broken)   # forked workers inherit it
    ctxs = {jobs: run_convert(synthetic_org, tmp_path / str(jobs), ConvertOptions(jobs=jobs), only={"dashboards"})
            for jobs in (1, 2)}
    for ctx in ctxs.values():
        dashboards = [i for i in ctx.ledger if i.kind == "dashboard"]
        failed = [i.id for i in dashboards if i.status.value == "error"]
        assert failed == [victim]
        assert not ctx.ledger.get("dashboard", victim).outputs
        assert len(dashboards) == 10
    assert_same_trees(tmp_path / "1", tmp_path / "2")


def _double_or_fail(ictx, n: int) -> int:
    ictx.out.write_json(f"out/{n}.json", {"n": n})
    if n == 5:
        raise ValueError("five")
    return 2 * n


@pytest.mark.parametrize("jobs", [1, 2])
def test_convert_items_keeps_order_and_isolates_errors(jobs, small_chunks, tmp_path):
    from dd2prom.convert.context import ConvertContext
    from dd2prom.emit.output import OutputDir
    from dd2prom.snapshot import Snapshot

    with OutputDir(tmp_path / "out") as out:
        ctx = ConvertContext(snapshot=Snapshot.open(tmp_path), out=out, options=ConvertOptions(jobs=jobs))
        results = []
        for n, result in parallel.convert_items(ctx, _double_or_fail, range(9)):
            parallel.apply(ctx, result)   # while iterating: workers' scratch files go at the end
            results.append((n, result))
        assert (out.root / "out" / "4.json").read_text() == dumps({"n": 4})
        assert sorted(p.name for p in (out.root / "out").iterdir()) == [f"{n}.json" for n in range(9) if n != 5]
        assert [p.name for p in out.root.iterdir()] == ["out"]   # no scratch folder left
    assert [n for n, _ in results] == list(range(9))
    assert [r.value for _, r in results] == [0, 2, 4, 6, 8, None, 12, 14, 16]
    assert results[5][1].error == "ValueError: five" and results[5][1].files == []
    assert [f.rel for f in results[4][1].files] == ["out/4.json"]


def test_renames_queued_behind_a_slow_write_land_before_the_scratch_folder_goes(small_chunks, monkeypatch, tmp_path):
    """With the output folder writing on a background thread, the workers' files
    are renamed into place by that thread: the scratch folder is removed only
    once those renames are done."""
    import time

    import dd2prom.emit.writer as w
    from dd2prom.convert.context import ConvertContext
    from dd2prom.emit.output import OutputDir
    from dd2prom.snapshot import Snapshot

    real = w._write

    def slow(path, data, append):
        if Path(path).name == "slow.txt":
            time.sleep(0.3)
        real(path, data, append)

    monkeypatch.setattr(w, "_write", slow)
    with OutputDir(tmp_path / "out", background=True) as out:
        ctx = ConvertContext(snapshot=Snapshot.open(tmp_path), out=out, options=ConvertOptions(jobs=2))
        for n, result in parallel.convert_items(ctx, _double_or_fail, range(9)):
            if n == 0:
                out.write_text("slow.txt", "the renames after this wait for it")
            parallel.apply(ctx, result)
        out.commit()
    assert sorted(p.name for p in (tmp_path / "out" / "out").iterdir()) == [f"{n}.json" for n in range(9) if n != 5]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["out", "slow.txt"]   # the scratch folder went too


def _nested(levels: int) -> object:
    deep: object = "x"
    for _ in range(levels):
        deep = {"widgets": [{"definition": {"type": "group", "widgets": [deep]}}]}
    return deep


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("field", ["options", "tags", "name", "query"])
def test_a_monitor_nested_too_deep_to_copy_fails_alone(jobs, field, small_chunks, tmp_path):
    """An input nested too deep for pickle (a worker's copy of it) is that item's
    error or conversion, not the monitor stage's: the other monitors convert."""
    import json
    import sys

    from dd2prom.snapshot import Snapshot

    snap = tmp_path / "snap"
    (snap / "monitors").mkdir(parents=True)
    base = {"name": "CPU", "type": "query alert", "query": "avg(last_5m):avg:system.cpu.user{*} > 90",
            "options": {"thresholds": {"critical": 90}}}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)   # to write the file; json reads it back at the usual limit
    try:
        for i in range(1, 6):
            nested = {field: _nested(220)} if field != "tags" else {"tags": ["team:a", _nested(220)]}
            text = json.dumps(base | {"id": i} | (nested if i == 2 else {}))
            (snap / "monitors" / f"{i}.json").write_text(text)
    finally:
        sys.setrecursionlimit(limit)
    assert next(o for o in Snapshot.open(snap).iter("monitors") if o.id == "2").error is None
    ctx = run_convert(snap, tmp_path / "out", ConvertOptions(jobs=jobs))
    assert "errors" not in ctx.shared, ctx.shared.get("errors")
    statuses = {i.id: i.status.value for i in ctx.ledger if i.kind == "monitor"}
    assert sorted(statuses) == ["1", "2", "3", "4", "5"]
    assert {statuses[i] for i in "1345"} == {"exact"}


@pytest.mark.parametrize("stop_after", [None, 3])
def test_idle_workers_exit_in_the_background_and_a_caller_that_stops_early_waits(stop_after, small_chunks,
                                                                                monkeypatch, tmp_path):
    """Once every result is in, the workers only have to exit: the parent goes on
    meanwhile. A caller that stops early waits for them (a chunk may still be
    writing scratch files); either way no scratch folder is left."""
    import contextlib
    from concurrent.futures import ProcessPoolExecutor

    from dd2prom.convert.context import ConvertContext
    from dd2prom.emit.output import OutputDir
    from dd2prom.snapshot import Snapshot

    waits = []
    shutdown = ProcessPoolExecutor.shutdown

    def recording(self, wait=True, **kwargs):
        waits.append(wait)
        shutdown(self, wait, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "shutdown", recording)
    with OutputDir(tmp_path / "out") as out:
        ctx = ConvertContext(snapshot=Snapshot.open(tmp_path), out=out, options=ConvertOptions(jobs=2))
        seen = []
        with contextlib.closing(parallel.convert_items(ctx, _double_or_fail, range(9))) as results:
            for n, result in results:
                parallel.apply(ctx, result)
                seen.append(n)
                if n == stop_after:
                    break
        assert [p.name for p in out.root.iterdir()] == ["out"]   # no scratch folder left
    assert seen == list(range(9 if stop_after is None else stop_after + 1))
    assert waits == [stop_after is not None]


def test_monitors_converted_in_workers_get_the_alert_names_and_rows_of_a_serial_run(small_chunks, tmp_path):
    """Alert names are unique across the run and given in input order whichever
    worker converts a monitor: names repeated across chunks, a duplicate id, an
    unreadable or malformed file and a composite come out as in a serial run."""
    import json

    snap = tmp_path / "snap"
    (snap / "monitors").mkdir(parents=True)
    for i in range(1, 25):
        monitor = {"id": i, "name": f"CPU high {i % 3}", "type": "query alert", "tags": [f"team:t{i % 2}"],
                   "query": "avg(last_5m):avg:system.cpu.user{*} > 90", "options": {"thresholds": {"critical": 90}}}
        (snap / "monitors" / f"{i:02d}.json").write_text(json.dumps(monitor))
    (snap / "monitors" / "07b.json").write_text(json.dumps(monitor | {"id": 7, "name": "Same id"}))
    (snap / "monitors" / "08b.json").write_text("{not json")
    (snap / "monitors" / "09b.json").write_text(json.dumps({"id": 99, "type": "query alert", "options": []}))
    (snap / "monitors" / "10b.json").write_text(json.dumps({"id": 100, "name": "Both", "type": "composite",
                                                            "query": "1 && 2"}))
    serial = run_convert(snap, tmp_path / "serial", ConvertOptions(jobs=1))
    par = run_convert(snap, tmp_path / "parallel", ConvertOptions(jobs=2))
    assert [i.id for i in serial.ledger] == [i.id for i in par.ledger]
    assert serial.shared["monitor_alerts"] == par.shared["monitor_alerts"]
    assert len({a["alertname"] for a in par.shared["monitor_alerts"].values()}) == len(par.shared["monitor_alerts"])
    assert_same_trees(tmp_path / "serial", tmp_path / "parallel")
