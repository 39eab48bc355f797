"""yamlio.nest_yaml: a dumped mapping moved deeper is what dump_yaml writes for it
there, as a nested mapping and as a ``|`` block, or None."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dd2prom.emit import yamlio
from dd2prom.emit.yamlio import dump_yaml, nest_yaml
from tests.test_yaml_fast import data, keys


def check(obj: dict) -> str | None:
    """nest_yaml of obj's YAML four columns deeper, checked against both dumps."""
    nested = nest_yaml(dump_yaml(obj), 4)
    if nested is not None:
        assert "a:\n  b:\n" + nested == dump_yaml({"a": {"b": obj}})
        assert "a:\n  b: |\n" + nested == dump_yaml({"a": {"b": dump_yaml(obj)}})
        assert "c:\n" + nest_yaml(dump_yaml(obj), 2) == dump_yaml({"c": obj})
    text = dump_yaml(obj)
    pieces = yamlio.nest_yaml_utf8(text, text.encode("utf-8"), 4)
    assert (b"".join(pieces) if pieces is not None else None) == (nested.encode("utf-8") if nested else None)
    return nested


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, data, min_size=1, max_size=5))
def test_nested_text_is_what_dump_yaml_writes_there(obj):
    check(obj)


IDS = 'dd_monitor_id=~"' + "|".join(str(i) for i in range(3000)) + '"'   # one line past the width


@pytest.mark.parametrize("obj, fast", [
    ({"route": {"routes": [{"matchers": ['a="b"'], "receiver": "x"}]}, "receivers": [{"name": "x"}]}, True),
    ({"text": "first\n\n\nlast\n", "list": [["a"], {"b": "c\n"}], "empty": {}, "none": []}, True),
    ({"emoji": "😀 and \t tab", "x": 1.5, "nel": "a\x85b"}, True),
    ({"": "\n", "kept": "a\n\n"}, True),   # quoted, not |+ blocks (PyYAML ends the document after those)
    ({"long": IDS, "list": [IDS, {"k": IDS}], "after": {"a": IDS}}, True),
    ({"long": "a " + IDS}, True),
    ({"long": "a " + IDS + " b"}, False),   # folded at the width
    ({"folded": "x y " * 3000}, False),
    ({"list": [{"a": "x y " * 3000}, "x y " * 3000]}, False),
    ({"quoted": "'quoted' " * 3000}, False),
    ({"double": "tab\t " * 3000}, False),
    ({"block": IDS + "\n  deeper\n"}, False),
    ({"block": IDS + "\nsame\n"}, True),
])
def test_shapes(obj, fast):
    assert (check(obj) is not None) == fast


@settings(max_examples=400, deadline=None)
@given(st.lists(data, min_size=1, max_size=5), st.integers(1, 3))
def test_unnested_items_are_what_dump_yaml_writes_there(items, depth):
    """What dd2prom.convert.monitors.rulefiles relies on: a PrometheusRule's
    groups, two columns in, are the rule file's groups."""
    try:
        deeper = yamlio.dump_yaml_items(items, depth + 1)
    except ValueError:   # items PyYAML ends with a document end (a |+ block last): not dumped in pieces
        return
    unnested = yamlio.unnest_yaml(deeper, 2)
    if unnested is not None:
        assert unnested == yamlio.dump_yaml_items(items, depth)
        assert nest_yaml(unnested, 2) in (None, deeper)


@pytest.mark.parametrize("items, fast", [
    ([{"name": "g", "rules": [{"alert": "A", "annotations": {"description": "a\n\n\nb\n"}}]}], True),
    ([{"text": "line\u2028next\nmore"}], False),
    ([{"long": "a " + IDS + " b"}], False),
])
def test_unnest_shapes(items, fast):
    unnested = yamlio.unnest_yaml(yamlio.dump_yaml_items(items, 2), 2)
    assert (unnested is not None) == fast
    assert unnested in (None, yamlio.dump_yaml_items(items, 1))


def test_a_document_end_marker_is_not_nested():
    assert nest_yaml("a: |+\n  x\n\n...\n", 2) is None


def unfolded_by_lines(text: str, width: int) -> bool:
    """_unfolded's rule, line by line."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if len(line) >= width and (" " in line[width - 1:] or
                                   len(following) - len(following.lstrip()) > len(line) - len(line.lstrip())):
            return False
    return True


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["x", "-", " ", "x y", "ab"]), st.integers(0, 40)),
                max_size=12), st.integers(3, 30))
def test_long_lines_are_found_by_blocks(shape, width):
    text = "\n".join(" " * indent + (piece * length)[:length] for indent, piece, length in shape)
    assert yamlio._unfolded(text, width) == unfolded_by_lines(text, width)


def test_split_at_slot_keeps_what_surrounds_the_slot():
    from dd2prom.emit.yamlio import SLOT, dump_yaml_items, split_at_slot

    items = [{"name": "a", "rules": [{"expr": "up"}]}, {"name": "b"}]
    head, tail = split_at_slot({"kind": "X", "spec": {"groups": [SLOT], "after": 1}})
    assert head + dump_yaml_items(items, 2) + tail == dump_yaml({"kind": "X", "spec": {"groups": items, "after": 1}})
    value = {"route": {"receiver": "r"}}
    head, tail = split_at_slot({"a": {"config": SLOT, "secrets": ["s"]}})
    assert head + nest_yaml(dump_yaml(value), 4) + tail == dump_yaml({"a": {"config": value, "secrets": ["s"]}})
    with pytest.raises(ValueError):
        split_at_slot({"a": [SLOT, SLOT]})


@settings(max_examples=400, deadline=None)
@given(st.lists(data, min_size=1, max_size=5), st.integers(1, 3))
def test_items_written_in_place_are_the_wrapped_documents_text(items, depth):
    """dump_yaml_items writes the items where they sit (fastyaml.emit_items), not
    through a document of nested keys: the same text as that document's, cut."""
    from dd2prom.emit import fastyaml

    direct = fastyaml.emit_items(items, 2 * (depth - 1))
    wrapped: object = items
    for _ in range(depth):
        wrapped = {"_": wrapped}
    whole = fastyaml.emit(wrapped)
    prefix = "".join(" " * (2 * level) + "_:\n" for level in range(depth))
    assert (direct is None) == (whole is None)
    if whole is not None:
        assert prefix + direct == whole
