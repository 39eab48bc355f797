import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from dd2prom.convert import pipeline
from dd2prom.convert.pipeline import coverage_document, write_coverage
from dd2prom.emit.output import OutputDir
from dd2prom.model import CoverageItem, Ledger, Status
from dd2prom.snapshot import Snapshot, atomic_write_json, dumpb, dumpb_pieces, items_text


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


def test_ledger_order_kinds_then_ids():
    led = Ledger()
    for kind, id_ in [("widget", "b"), ("other", "2"), ("monitor", "9"), ("later", "1"), ("widget", "a"), ("monitor", "10")]:
        led.add(kind, id_)
    # kinds in KINDS order, any other kind last (those by id alone), then by id as text
    assert [(i.kind, i.id) for i in led.in_order()] == [
        ("monitor", "10"), ("monitor", "9"), ("widget", "a"), ("widget", "b"), ("later", "1"), ("other", "2")]


@pytest.mark.parametrize("document, items", [
    ({"counts": {"a": 1}, "snapshot": "x", "errors": []}, [{"b": 1, "a": [1, 2.5, None, "é\n"]}, {"z": {}}, {}, [], 3]),
    ({"counts": {}, "errors": ["dd2prom-items"]}, [{"a": 1}]),     # the slot's text elsewhere: written whole
    ({"errors": []}, []),                                            # no items: written whole
    ({"x": 1, 2: "non-string key"}, [{"a": {1: 2}}] * 7),
])
@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_json_in_pieces_is_the_whole_document(document, items, size):
    assert b"".join(dumpb_pieces(document, "items", iter(items), size)) == dumpb({**document, "items": items})


@pytest.mark.parametrize("size", [1, 2, 3, 100])
@pytest.mark.parametrize("given", ["none", "all", "odd", "even", "first", "last"])
def test_json_in_pieces_copies_items_given_as_text(given, size):
    """Items given as their text (items_text, made elsewhere) land exactly where orjson writes them."""
    document = {"counts": {"a": 1}, "snapshot": "x", "errors": []}
    items = [{"b": i, "a": [1, 2.5, None, "é\n", {"c": {}}], "n": {"x": [[], {}]}} for i in range(9)]
    chosen = {"none": lambda i: False, "all": lambda i: True, "odd": lambda i: i % 2 == 1,
              "even": lambda i: i % 2 == 0, "first": lambda i: i == 0, "last": lambda i: i == 8}[given]
    pieces, run = [], []
    for i, item in enumerate(items):   # consecutive chosen items given as one text, or one each
        if chosen(i):
            run.append(item)
            if i % 3 == 2:
                pieces.append(items_text(run)); run = []
        else:
            if run:
                pieces.append(items_text(run)); run = []
            pieces.append(item)
    if run:
        pieces.append(items_text(run))
    pieces.append(items_text([]))   # an empty text adds nothing
    expected = dumpb({**document, "items": items})
    assert b"".join(dumpb_pieces(document, "items", iter(pieces), size)) == expected


def test_ledger_rows_json_uses_texts_only_for_the_same_rows_together():
    led = Ledger()
    rows = [led.add("widget", f"d/{i}", name=f"w{i}") for i in range(5)]
    other = led.add("monitor", "1", name="m")
    led.add_text(rows[1:4], "TEXT")
    assert list(led.rows_json()) == [other.to_json(), rows[0].to_json(), "TEXT", rows[4].to_json()]
    # a row converted again (another object under the same key) or rows no longer together: each row's own JSON
    led._items[("widget", "d/2")] = replaced = CoverageItem("widget", "d/2", name="again")
    assert list(led.rows_json()) == [other.to_json()] + [r.to_json() for r in (rows[0], rows[1], replaced, rows[3], rows[4])]
    led.add("widget", "d/1x")
    led._items[("widget", "d/2")] = rows[2]
    assert "TEXT" not in list(led.rows_json())


def test_output_dir_writes_pieces(tmp_path):
    with OutputDir(tmp_path / "out") as out:
        out.write_pieces("a.txt", ["one ", b"two ", "three"])
        out.write_pieces("empty.txt", [])
        out.commit()
    assert (tmp_path / "out" / "a.txt").read_text() == "one two three"
    assert (tmp_path / "out" / "empty.txt").read_text() == ""


def test_coverage_json_in_pieces(tmp_path, monkeypatch):
    led = Ledger()
    for n in range(7):
        led.add("monitor", n, f"m{n}").note("a sentence", Status.APPROXIMATE)
    ctx = SimpleNamespace(ledger=led, snapshot=SimpleNamespace(root=tmp_path), shared={"errors": ["e"]})
    monkeypatch.setattr(pipeline, "COVERAGE_PIECE", 2)
    for big in (1, 1 << 70):   # 2**70: orjson refuses it, so the standard library writes the whole document
        led.get("monitor", 3).extra["big"] = big
        with OutputDir(tmp_path / f"out{big}") as out:
            write_coverage(out, ctx)
            out.commit()
        assert (tmp_path / f"out{big}" / "coverage.json").read_bytes() == dumpb(coverage_document(ctx))


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
