import json
import subprocess
import sys

from dd2prom.emit.output import OutputDir
from dd2prom.model import Ledger, Status
from dd2prom.snapshot import Snapshot, atomic_write_json


def test_status_worst():
    assert Status.worst() is Status.EXACT
    assert Status.worst(Status.EXACT, Status.MANUAL, Status.APPROXIMATE) is Status.MANUAL


def test_ledger_every_item_once():
    led = Ledger()
    a = led.add("monitor", 1, "a")
    assert led.add("monitor", "1") is a
    a.note("differs", Status.APPROXIMATE)
    a.note("differs", Status.EXACT)
    assert a.notes == ["differs"] and a.status is Status.APPROXIMATE
    assert led.to_json()["items"][0]["status"] == "approximate"


def test_snapshot_ids_and_bad_files(tmp_path):
    atomic_write_json(tmp_path / "monitors" / "x.json", {"id": 42, "name": "m"})
    (tmp_path / "monitors" / "broken.json").write_text("{not json")
    atomic_write_json(tmp_path / "synthetics" / "s.json", {"public_id": "abc-def-ghi"})
    snap = Snapshot.open(tmp_path)
    mons = list(snap.monitors())
    assert [m.id for m in mons] == ["broken", "42"]
    assert mons[0].error and mons[1].error is None
    assert [s.id for s in snap.synthetics()] == ["abc-def-ghi"]


def test_output_dir_is_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    with OutputDir(out) as o:
        o.write_json("coverage.json", {"x": 1})
        o.commit()
    assert json.loads((out / "coverage.json").read_text()) == {"x": 1}
    try:
        with OutputDir(out) as o:
            o.write_json("b.json", {})
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["coverage.json"]


def test_cli_error_is_clean():
    r = subprocess.run([sys.executable, "-m", "dd2prom", "compare", ".", "--prometheus-url", "http://x"],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
