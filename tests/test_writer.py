"""The background writer: operations in order, failures raised to the caller,
nothing left behind when a run fails after its writes were queued."""

from __future__ import annotations

import os

import pytest

from dd2prom.emit.output import OutputDir
from dd2prom.emit.writer import Writer, writer


def test_operations_happen_in_the_order_asked(tmp_path):
    w = Writer(max_pending=64)   # tiny budget: the caller waits for the thread now and then
    for i in range(200):
        w.write(tmp_path / "log.txt", f"{i}\n", append=True)
    w.write(tmp_path / "a.txt", "first")
    w.write(tmp_path / "a.txt", b"second")
    w.replace(tmp_path / "a.txt", tmp_path / "b.txt")
    w.write(tmp_path / "gone.txt", "x")
    w.unlink(tmp_path / "gone.txt")
    w.unlink(tmp_path / "never-written.txt")   # removing a missing file is not an error
    (tmp_path / "scratch").mkdir()
    w.write(tmp_path / "scratch" / "kept.txt", "moved out before the folder goes")
    w.write(tmp_path / "scratch" / "left.txt", "removed with the folder")
    w.replace(tmp_path / "scratch" / "kept.txt", tmp_path / "kept.txt")
    w.remove_folder(tmp_path / "scratch")
    w.flush()
    assert (tmp_path / "log.txt").read_text() == "".join(f"{i}\n" for i in range(200))
    assert (tmp_path / "b.txt").read_text() == "second"
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "gone.txt").exists()
    assert (tmp_path / "kept.txt").exists() and not (tmp_path / "scratch").exists()


def test_lists_and_views_are_written_as_their_pieces_joined(tmp_path):
    w = Writer(max_pending=64)
    w.write(tmp_path / "t.txt", ["é", "b" * 100])
    w.write(tmp_path / "t.txt", ["c", "\n"], append=True)
    w.write(tmp_path / "t.txt", [], append=True)
    w.write(tmp_path / "b.bin", [b"x", memoryview(b"yz")[1:]])
    w.write(tmp_path / "b.bin", memoryview(b"-end-")[1:-1], append=True)
    w.write(tmp_path / "b.bin", ["-é", b"\xc3\xa9"], append=True)   # text and bytes mixed
    w.flush()
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "é" + "b" * 100 + "c\n"
    assert (tmp_path / "b.bin").read_bytes() == b"xzend" + "-éé".encode("utf-8")


def test_a_failed_write_fails_the_writer_until_cleared(tmp_path):
    """A lost write is never silent: later operations are dropped, not blamed on
    whoever writes next, and every flush raises the first failure."""
    w = Writer()
    w.write(tmp_path / "missing-folder" / "x.txt", "lost")
    w.write(tmp_path / "after.txt", "dropped")   # no exception here: this caller did nothing wrong
    for _ in range(2):
        with pytest.raises(FileNotFoundError, match="missing-folder"):
            w.flush()
    w.write(tmp_path / "later.txt", "dropped too")
    with pytest.raises(FileNotFoundError):
        w.flush(clear=True)   # a worker: its chunk is converted again elsewhere
    assert not (tmp_path / "after.txt").exists() and not (tmp_path / "later.txt").exists()
    w.write(tmp_path / "again.txt", "written")
    w.flush()
    assert (tmp_path / "again.txt").read_text() == "written"


def test_commit_waits_for_queued_writes_and_raises_their_failure(tmp_path):
    out = OutputDir(tmp_path / "out", background=True)
    for i in range(50):
        out.write_text(f"dir/{i}.txt", "x" * 10_000)
    out.write_json("coverage.json", {"items": []})
    assert out.commit() == (tmp_path / "out").resolve()
    assert len(list((tmp_path / "out" / "dir").iterdir())) == 50

    failing = OutputDir(tmp_path / "out2", background=True)
    failing.write_text("coverage.json", "{}")
    failing.path("blocked/x.txt")           # the folder exists now...
    os.rmdir(failing.root / "blocked")      # ...and goes away before the write runs
    failing.write_text("blocked/x.txt", "x")
    with pytest.raises(FileNotFoundError):
        with failing:
            failing.commit()
    assert not (tmp_path / "out2").exists()
    assert not [p for p in tmp_path.iterdir() if "staging" in p.name]   # nothing half-written left


def test_a_forked_process_gets_its_own_writer(tmp_path):
    parent = writer()
    parent.write(tmp_path / "parent.txt", "p")
    pid = os.fork()
    if pid == 0:   # the child: the parent's thread does not exist here
        code = 0
        try:
            child = writer()
            code |= child is parent
            child.write(tmp_path / "child.txt", "c")
            child.flush()
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    parent.flush()
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "child.txt").read_text() == "c"
    assert (tmp_path / "parent.txt").read_text() == "p"


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("lost", ["a dashboard", "a rule file", "coverage.json"])
def test_a_run_that_loses_a_write_is_not_committed(tmp_path, monkeypatch, jobs, lost):
    """A full disk part-way through convert (in the parent or in a worker): the
    run fails with the file system's error, the previous output stays as it was,
    no staging folder is left."""
    import errno
    import sys
    from pathlib import Path

    import dd2prom.emit.writer as w
    from dd2prom.convert import ConvertOptions, run_convert
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.synth_org import generate, write_snapshot

    snap = write_snapshot(generate(120, 40, seed=3), tmp_path / "snap")
    out = tmp_path / "out"
    run_convert(snap, out, ConvertOptions(jobs=jobs))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    real = w._write
    fails = {
        "a dashboard": lambda path, data: '"annotations"' in str(data[:40]),   # a worker's scratch file too
        "a rule file": lambda path, data: Path(path).name.startswith("monitors-"),
        "coverage.json": lambda path, data: Path(path).name == "coverage.json",
    }[lost]

    def disk_full(path, data, append):
        if fails(path, data):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, append)

    monkeypatch.setattr(w, "_write", disk_full)   # forked workers inherit it
    with pytest.raises(OSError, match="No space left"):
        run_convert(snap, out, ConvertOptions(jobs=jobs))
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "snap"]


def test_the_cli_says_a_lost_write_left_the_output_as_it_was(tmp_path, monkeypatch):
    import errno

    from typer.testing import CliRunner

    import dd2prom.emit.writer as w
    from dd2prom.cli import app
    from dd2prom.resources import sample_org_dir

    def disk_full(path, data, append):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(w, "_write", disk_full)
    r = CliRunner().invoke(app, ["convert", str(sample_org_dir()), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "could not write the output" in text and "No space left on device" in text and "as it was" in text
    assert list(tmp_path.iterdir()) == []
