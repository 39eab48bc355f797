"""Positions → gridPos (no overlaps), groups → rows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dd2prom.convert.dashboards.layout import Box, arrange, flow, number_panels, place


def _overlap(a, b):
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def all_panels(panels):
    for p in panels:
        yield p
        yield from p.get("panels", [])


def assert_no_overlaps(positions):
    for i, a in enumerate(positions):
        assert 0 <= a["x"] and a["x"] + a["w"] <= 24 and a["w"] >= 1 and a["h"] >= 1
        for b in positions[i + 1:]:
            assert not _overlap(a, b), (a, b)


def test_ordered_grid_scales_to_24_columns():
    pos = place([Box(0, 0, 4, 2), Box(4, 0, 8, 2), Box(0, 2, 12, 1)], top=0, columns=12)
    assert pos[0] == {"x": 0, "y": 0, "w": 8, "h": 8}
    assert pos[1] == {"x": 8, "y": 0, "w": 16, "h": 8}
    assert pos[2] == {"x": 0, "y": 8, "w": 24, "h": 4}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 90), st.integers(0, 90), st.integers(1, 40), st.integers(1, 30)),
                min_size=1, max_size=25))
def test_free_layout_never_overlaps(boxes):
    """Free layouts may overlap in Datadog; Grafana gets none."""
    pos = place([Box(*b) for b in boxes], top=3, columns=max(x + w for x, _, w, _ in boxes))
    assert_no_overlaps(pos)
    assert min(p["y"] for p in pos) >= 3


def _w(wtype, x, y, w, h, **kw):
    return {"definition": {"type": wtype, **kw}, "layout": {"x": x, "y": y, "width": w, "height": h}}


def _arrange(widgets, free=False):
    def row_for(widget, path):
        d = widget["definition"]
        if d["type"] != "group":
            return None
        return {"type": "row", "title": d.get("title", ""), "collapsed": d.get("collapsed", False), "panels": []}, d["widgets"]

    panels = arrange(widgets, free, lambda w, path: {"type": w["definition"]["type"], "path": path}, row_for)
    number_panels(panels)
    return panels


def test_groups_become_rows_in_order_with_collapsed_state():
    panels = _arrange([
        _w("note", 0, 0, 12, 1),
        _w("group", 0, 1, 6, 3, title="B", widgets=[_w("timeseries", 0, 0, 12, 2)]),
        _w("group", 6, 1, 6, 3, title="C", collapsed=True, widgets=[_w("toplist", 0, 0, 6, 2), _w("note", 6, 0, 6, 2)]),
        _w("timeseries", 0, 5, 12, 2),
    ])
    top = [(p["type"], p.get("title")) for p in panels]
    assert top == [("note", None), ("row", "B"), ("timeseries", None), ("row", "C"), ("row", "Other widgets"),
                   ("timeseries", None)]
    collapsed = panels[3]
    assert collapsed["collapsed"] and [p["type"] for p in collapsed["panels"]] == ["toplist", "note"]
    ys = [p["gridPos"]["y"] for p in panels]
    assert ys == sorted(ys)
    assert collapsed["panels"][0]["gridPos"]["y"] == collapsed["gridPos"]["y"] + 1
    ids = [p["id"] for p in all_panels(panels)]
    assert ids == list(range(1, len(ids) + 1))
    expanded = [p["gridPos"] for p in panels] + [p["gridPos"] for p in collapsed["panels"]]
    assert_no_overlaps([g for g in expanded if g["h"] > 1 or g["w"] < 24])


def test_nested_group_is_flattened_into_the_outer_row():
    panels = _arrange([_w("group", 0, 0, 12, 4, title="Outer", widgets=[
        _w("note", 0, 0, 6, 2), _w("group", 0, 2, 12, 2, title="Inner", widgets=[_w("image", 0, 0, 12, 2)])])])
    assert [p["type"] for p in panels] == ["row", "note", "image"]
    assert panels[2]["path"] == "widgets[0].widgets[1].widgets[0]"


def test_widgets_without_layout_flow_left_to_right():
    boxes = flow([{"definition": {"type": "query_value"}}, {"definition": {"type": "timeseries"}},
                  {"definition": {"type": "timeseries"}}, {"definition": {"type": "timeseries"}}])
    assert [(b.x, b.y) for b in boxes] == [(0, 0), (2, 0), (6, 0), (0, 2)]
