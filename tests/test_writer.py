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
    w.flush()
    assert (tmp_path / "log.txt").read_text() == "".join(f"{i}\n" for i in range(200))
    assert (tmp_path / "b.txt").read_text() == "second"
    assert not (tmp_path / "a.txt").exists() and not (tmp_path / "gone.txt").exists()


def test_a_failed_write_is_raised_once_and_later_ones_are_dropped(tmp_path):
    w = Writer()
    with pytest.raises(FileNotFoundError):   # from the next call, or from flush when the thread is slower
        w.write(tmp_path / "missing-folder" / "x.txt", "lost")
        w.write(tmp_path / "after.txt", "dropped: it was queued behind the failure, or never queued")
        w.flush()
    assert not (tmp_path / "after.txt").exists()
    w.write(tmp_path / "later.txt", "written")   # the writer goes on after reporting
    w.flush()
    assert (tmp_path / "later.txt").read_text() == "written"


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
