"""Scale benchmark of `dd2prom convert` (prints numbers; not a test).

Builds a synthetic organisation (bench/synth_org.py: 20,000 monitors and 2,000
dashboards by default, ~60,000 widgets), then measures

* the floor: only loading the same JSON files and writing output of the same
  total size in as many files (bench/floor.py, a program of its own, timed
  as convert is: the wall time of the process);
* `dd2prom convert` as a real process, wall time and peak memory (getrusage of
  the child, as /usr/bin/time -v reports it);
* optionally (--profile) the hot spots, by cumulative time.

    python bench/bench_convert.py [--monitors 20000] [--dashboards 2000] [--profile]
    python bench/bench_convert.py --snapshot DIR     # an existing snapshot
    python bench/bench_convert.py --runs 5           # least of 5 runs of each (default 3)

Every run writes a folder of its own in a temporary folder, removed at the end:
at full scale with 3 runs that is about 6 GB at once (see main()).
"""

from __future__ import annotations

import argparse
import compileall
import cProfile
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synth_org import generate, write_snapshot  # noqa: E402

STAGE_MODULES = ("checks", "synthetics", "monitors", "slos", "dashboards", "downtimes")


def _settle(snapshot: Path) -> None:
    """The same start for convert and each floor run: no dirty pages waiting to be
    written, the page cache emptied where allowed (root), then the snapshot read
    back into it. Writing 800 MB costs very different system time when the kernel
    must first reclaim cached pages (the floor varied 1.6-5.8 s without this).
    Python's own files are read back too (an interpreter that imports convert's
    modules and exits): dropping the cache made convert's start read the standard
    library and site-packages from disk again, seconds on this VM, which a machine
    that runs Python does not pay (and the floor, importing only orjson, hardly would)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError:
        pass
    subprocess.run([sys.executable, "-c", "import dd2prom.cli, dd2prom.convert.pipeline; "
                    + "; ".join(f"import dd2prom.convert.{stage}" for stage in STAGE_MODULES)],
                   check=True, cwd=Path(__file__).resolve().parents[1])
    for p in snapshot.rglob("*.json"):
        p.read_bytes()


def tree_bytes(root: Path) -> tuple[int, int]:
    n = size = 0
    for p in root.rglob("*"):
        if p.is_file():
            n += 1
            size += p.stat().st_size
    return n, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--monitors", type=int, default=20000)
    ap.add_argument("--dashboards", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--jobs", type=int, default=0, help="convert --jobs (0 = one process per core)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--snapshot", type=Path, help="convert this snapshot instead of generating one")
    ap.add_argument("--runs", type=int, default=3, help="runs of convert and of the floor (the least is compared)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dd2prom-bench-convert-"))
    # convert runs as installed: its modules' bytecode compiled once, as pip
    # does at install (where PYTHONDONTWRITEBYTECODE is set, as on this VM, each
    # run would otherwise compile ~100 modules again: 0.09 s of its start)
    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "dd2prom"), quiet=1)
    try:
        t0 = time.perf_counter()
        if args.snapshot:
            snap = args.snapshot
            n_in, in_bytes = tree_bytes(snap)
            print(f"organisation: {snap}; {n_in} files, {in_bytes / 1e6:.1f} MB")
        else:
            org = generate(args.monitors, args.dashboards, seed=args.seed)
            snap = write_snapshot(org, work / "snapshot")
            widgets = sum(_count_widgets(d.get("widgets", [])) for d in org["dashboards"])
            n_in, in_bytes = tree_bytes(snap)
            print(f"organisation: {len(org['monitors'])} monitors, {len(org['dashboards'])} dashboards, "
                  f"{widgets} widgets, {len(org.get('slos', []))} SLOs, {len(org.get('synthetics', []))} "
                  f"synthetics; {n_in} files, {in_bytes / 1e6:.1f} MB (generated in {time.perf_counter() - t0:.1f}s)")

        # convert and the floor are measured the same way: each run from the same
        # state (see _settle), the least of --runs runs compared (this VM's write
        # speed moves single runs of either by seconds), and their runs alternate
        # (convert, floor, convert, floor...) so that both meet the machine in the
        # same states. Each run writes a folder of its own, all removed at the end:
        # on ext4 without a journal, creating files within 1-6 minutes of deleting
        # thousands of others makes the kernel look over the recently deleted
        # inodes (perf: recently_deleted, find_inode_bit; seconds of system time
        # here), which would charge whichever runs came first after a deletion.
        runs, floors = [], []
        for i in range(args.runs):
            out = work / f"out-{i}"
            cmd = [sys.executable, "-m", "dd2prom", "convert", str(snap), "--out", str(out), "--jobs", str(args.jobs)]
            runs.append((*_convert_once(cmd, snap), out))
            if i == 0:
                n_out, out_bytes = tree_bytes(out)
            floors.append(_floor_once(snap, n_out, out_bytes, work / f"floor-{i}"))
        wall, cpu, peak_mib, _, proc, stderr, out = min(runs, key=lambda r: r[0])
        cmd = [sys.executable, "-m", "dd2prom", "convert", str(snap), "--out", str(work / "out-pss"), "--jobs", str(args.jobs)]
        tree_peak = _convert_once(cmd, snap, pss=True)[3]   # a run of its own (see _convert_once)
        cov = json.loads((out / "coverage.json").read_text())
        print(f"convert (--jobs {args.jobs}; least of {args.runs}: {', '.join(f'{r[0]:.1f}' for r in runs)} s): "
              f"exit {proc.returncode}, wall {wall:.1f}s, cpu {cpu:.1f}s "
              f"({cpu / wall:.2f} cores), peak RSS {max(r[2] for r in runs):.0f} MiB (largest process), "
              f"{tree_peak:.0f} MiB PSS (all processes at once, sampled in one more run); "
              f"{len(cov['items'])} ledger items, {n_out} files, {out_bytes / 1e6:.1f} MB written")
        print("coverage:", json.dumps(cov.get("counts", {}), sort_keys=True))
        fl, fl_cpu, _ = min(floors)
        inner = min(f[2] for f in floors)
        median = sorted(r[0] for r in runs)[len(runs) // 2] / sorted(f[0] for f in floors)[len(floors) // 2]
        print(f"floor (a program that loads the same JSON and writes the same bytes, timed as convert is: "
              f"least of {args.runs}: {', '.join(f'{f[0]:.2f}' for f in floors)} s): wall {fl:.2f}s, "
              f"cpu {fl_cpu:.1f}s; convert / floor = {wall / fl:.1f}x wall (least / least; {median:.1f}x "
              f"median / median), {cpu / fl_cpu:.1f}x cpu")
        print(f"  (the floor's work inside its process, without starting Python: least {inner:.2f} s "
              f"({', '.join(f'{f[2]:.2f}' for f in floors)}); convert / that = {wall / inner:.1f}x, "
              f"as rounds 4-7 compared)")
        if args.profile:
            prof = work / "convert.prof"
            out = work / "out-profile"
            cProfile.run(f"from dd2prom.convert import run_convert; run_convert({str(snap)!r}, {str(out)!r})", str(prof))
            stats = pstats.Stats(str(prof))
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(30)
        if proc.returncode not in (0, 1):
            print(stderr[-3000:])
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _convert_once(cmd: list[str], snap: Path, pss: bool = False):
    """(wall, cpu, peak RSS MiB of the largest process, peak summed PSS MiB or
    None, process, stderr). ``pss``: sample the summed PSS, in a run of its own:
    reading /proc/PID/smaps_rollup walks the process's page tables under its
    memory lock, and sampling every 0.2 s slowed convert by 0.5-0.8 s."""
    _settle(snap)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree_peak = _watch_tree_rss(proc) if pss else None
    _, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest any child reached so far (this one or an earlier run)
    return wall, cpu, after.ru_maxrss / 1024, tree_peak, proc, stderr


def _floor_once(snap: Path, n_out: int, out_bytes: int, scratch: Path) -> tuple[float, float, float]:
    """(wall, cpu, seconds inside the process) of one floor run: bench/floor.py
    as a program of its own, from the same state as convert's runs and timed
    the same way (see bench/floor.py)."""
    _settle(snap)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("floor.py")), str(snap), str(scratch),
                           str(n_out), str(out_bytes)], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, float(proc.stdout)


def _watch_tree_rss(proc: subprocess.Popen) -> float:
    """Peak of the summed PSS (MiB) of a process and its children (the forked
    worker processes share most pages with the parent: PSS counts a shared page
    once across them, RSS once per process), sampled every 0.2 s from /proc."""
    peak = 0.0
    while proc.poll() is None:
        total = 0
        pids = [proc.pid]
        while pids:
            pid = pids.pop()
            try:
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                total += int(next(ln.split()[1] for ln in rollup.splitlines() if ln.startswith("Pss:")))
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids.extend(int(c) for c in (task / "children").read_text().split())
            except (OSError, StopIteration, ValueError):
                continue
        peak = max(peak, total / 1024)
        time.sleep(0.2)
    return peak


def _count_widgets(widgets) -> int:
    n = 0
    for w in widgets or []:
        n += 1
        n += _count_widgets(((w or {}).get("definition") or {}).get("widgets"))
    return n


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
