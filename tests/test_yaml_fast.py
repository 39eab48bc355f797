"""dd2prom.emit.fastyaml writes exactly what PyYAML + libyaml write with yamlio's
settings, or declines (None)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dd2prom.convert import ConvertOptions, run_convert
from dd2prom.emit import fastyaml, yamlio
from dd2prom.resources import sample_org_dir


def pyyaml(obj, multi: bool = False) -> str:
    opts = dict(Dumper=yamlio._Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=10_000)
    return yaml.dump_all(obj, explicit_start=True, **opts) if multi else yaml.dump(obj, **opts)


PIECES = ["a", "Z", "_", "0", "7", "1.5", "-", "--", "...", ".", ":", ": ", " :", "#", " #", "'", '"', "{", "}",
          "[", "]", ",", "?", "!", "&", "*", "|", ">", "%", "@", "`", "~", " ", "  ", "\n", "\n\n", "\t", "é", "€",
          "\u2028", "\ufeff", "😀", "true", "no", "null", "Yes", "0x1F", "1e3", ".inf", "2024-01-01", "=", "<<",
          "{{ $labels.host }}", 'up{job="x"} > 1', "---"]
texts = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
scalars = st.one_of(texts, st.integers(-10**6, 10**6), st.booleans(), st.none(),
                    st.floats(allow_nan=True, allow_infinity=True))
keys = st.one_of(texts, st.sampled_from(["name", "expr", "labels", "for", "- x", "a: b", "", "1", "true"]))
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(keys, inner, max_size=4)), max_leaves=25)


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.dictionaries(keys, data, min_size=1, max_size=5), st.lists(data, min_size=1, max_size=5)))
def test_same_text_as_pyyaml_or_declines(obj):
    text = fastyaml.emit(obj)
    if text is not None:
        assert text == pyyaml(obj)
    multi = fastyaml.emit_all([obj, obj])
    if multi is not None:
        assert multi == pyyaml([obj, obj], multi=True)


@pytest.mark.parametrize("obj", [
    {"a": "line one\nline two\n", "b": ["x\ny", {"c": "p\n\nq"}], "d": [[1, 2], [], {}], "e": {"f": 1.0e16}},
    [{"alert": "A", "expr": 'sum(rate(x{a="b"}[5m])) > 0.5', "for": "5m", "labels": {"severity": "critical"}}],
    {"description": "CPU on {{ $labels.host }}: high\n@slack-ops", "url": "https://example.com/a#b"},
    {"matchers": ['dd_monitor_id=~"' + "|".join(str(i) for i in range(1000, 4000)) + '"'],
     "json": "{\n" + '  "a": "' + "x y " * 4000 + '"\n}'},
])
def test_common_shapes_take_the_fast_path(obj):
    assert fastyaml.emit(obj) == pyyaml(obj)


@pytest.mark.parametrize("shape", ["value", "item", "nested", "item in mapping"])
@pytest.mark.parametrize("spacing", [" ", "  ", " x  y "])
def test_long_plain_lines_fold_at_the_width_like_libyaml(shape, spacing):
    text = spacing.join(f"-0.05{i}" for i in range(2500))   # a promtool input series, folded past 10,000 columns
    obj = {"value": {"k": text}, "item": [text], "nested": {"a": {"bb": {"ccc": text}}},
           "item in mapping": {"tests": [{"values": text}]}}[shape]
    mine = fastyaml.emit(obj)
    assert mine is not None and mine == pyyaml(obj)
    if shape == "value":   # one line unless folded; never folded where spaces come in pairs
        assert (mine.count("\n") > 1) == (spacing != "  ")


@pytest.mark.parametrize("odd", ["", "\x07", "\x7f", "\u00e9", "\u2028", ": x", " #x", "'"])
def test_long_one_line_text_is_checked_whole(odd):
    """Long one-line text (a promtool series of a week) is checked another way
    than short text: a character anywhere in it still decides how it is written."""
    text = "0.5 " * 1500 + odd + " 1" * 1500
    obj = {"values": text}
    mine = fastyaml.emit(obj)
    assert mine is None or mine == pyyaml(obj)
    assert (mine is not None) == (odd in ("", "\u00e9", "'"))


def test_long_quoted_lines_are_left_to_pyyaml():
    assert fastyaml.emit({"text": "'quoted' " * 3000}) is None


def test_a_converted_organisation_is_written_identically(tmp_path):
    run_convert(sample_org_dir(), tmp_path / "out", ConvertOptions(jobs=1))
    files = sorted((tmp_path / "out").rglob("*.yaml"))
    assert len(files) > 10
    fast = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        docs = yamlio.load_yaml_all(text)
        multi = text.startswith("---")
        mine = fastyaml.emit_all(docs) if multi else fastyaml.emit(docs[0])
        if mine is not None:
            fast += 1
            assert mine == pyyaml(docs if multi else docs[0], multi), path.name
    assert fast >= len(files) * 0.9


@settings(max_examples=300, deadline=None)
@given(st.lists(data, min_size=1, max_size=6), st.integers(0, 6), st.integers(1, 3))
# text ending in a line break of PyYAML's other than \n once made a |+ block (and a
# document end) or a block whose last line had no line break
@example([{"\n\u2028": None}], 0, 1)
@example(["a\nb\u2028", "c"], 1, 1)
@example(["a\n\x85", "x\n\u2029"], 1, 2)
def test_items_dumped_in_pieces_join_to_the_whole_list(items, cut, depth):
    """What dd2prom.convert.monitors.rulefiles relies on: a long list's YAML
    assembled from slices dumped separately (in different processes) is the
    text of dumping the list in place."""
    whole: object = items
    for _ in range(depth):
        whole = {"_": whole}
    head = "".join(" " * (2 * level) + "_:\n" for level in range(depth))
    pieces = yamlio.dump_yaml_items(items[:cut], depth) + yamlio.dump_yaml_items(items[cut:], depth)
    assert head + pieces == yamlio.dump_yaml(whole)
    deeper = yamlio.nest_yaml(pieces, 2)
    if deeper is not None:   # (None: lines near the width, which fold by column)
        assert deeper == yamlio.dump_yaml_items(items, depth + 1)


def test_digit_strings_resolve_as_pyyaml_says():
    """fastyaml answers for decimal integers (monitor ids) without PyYAML's resolver:
    the same answer, leading zeros (octal or a string) and non-ASCII digits included."""
    import itertools

    from yaml import ScalarNode
    from yaml.resolver import Resolver

    from dd2prom.emit import fastyaml

    resolver = Resolver()
    cases = ["0", "089", "15017", "9" * 30, "1_0", "\u0663", "\u00b2", "0x1", "1e3"]
    cases += ["".join(p) for n in range(1, 5) for p in itertools.product("0189", repeat=n)]
    # a digit then other characters: only those int, float or timestamp may hold ask the resolver
    cases += ["2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14", "0x1F", "0b101",
              "017", "1:30", "190:20:30.15", "1.5e+3", "6.8523015e+5", "12e03", "1.", "0o17", "100006 cart-api",
              "1h", "5m", "0.01584+0x60", "1+0x29 stale", "3d", "1.5x", "2001-12-14 21:59:43 Z", "0.5 "]
    for text in cases:
        assert fastyaml._resolves_other(text) == (resolver.resolve(ScalarNode, text, (True, False)) != fastyaml._STR), text


LONG = "x y " * 3000   # folded by its column past the width


@settings(max_examples=400, deadline=None)
@given(st.lists(st.dictionaries(keys, st.one_of(data, st.just(LONG)), min_size=1, max_size=4), min_size=1,
                max_size=4), st.integers(0, 3), st.randoms(use_true_random=False))
@example([{"series": "up", "values": LONG, "k": {"deeper key": LONG}}], 1, None)
def test_a_filled_template_is_the_items_written(items, depth, rnd):
    """fastyaml.template / fill (the promtool tests of monitors alike): items
    whose mappings hold slots, filled with the values taken out, are the text
    of the items themselves, or the fast writer declines both."""
    values: dict[str, object] = {}

    def open_slots(x):
        if type(x) is dict:
            opened = {}
            for k, v in x.items():
                if rnd is None or rnd.random() < 0.4:
                    values[name := f"slot {len(values)}"] = v
                    opened[k] = fastyaml.Slot(name)
                else:
                    opened[k] = open_slots(v)
            return opened
        return [open_slots(v) for v in x] if type(x) is list else x

    pieces = fastyaml.template(open_slots(items), 2 * depth)
    whole = fastyaml.emit_items(items, 2 * depth)
    if pieces is not None:
        filled = fastyaml.fill(pieces, values)
        assert filled == whole
        if filled is not None:   # where dump_yaml_items puts items written at that indent
            wrapped: object = items
            for _ in range(depth + 1):
                wrapped = {"_": wrapped}
            assert "".join(" " * (2 * level) + "_:\n" for level in range(depth + 1)) + filled == pyyaml(wrapped)


def test_a_slot_is_a_mappings_value_only():
    assert fastyaml.template([[fastyaml.Slot("x")]], 0) is None
    assert fastyaml.emit_items([{"a": fastyaml.Slot("x")}], 0) is None   # (outside a template)
