"""Markers and conditional formats → threshold steps."""

from __future__ import annotations

import pytest

from dd2prom.convert.dashboards.thresholds import from_conditional_formats, from_markers, palette_color


@pytest.mark.parametrize("markers,steps,style", [
    ([{"value": "y = 0", "display_type": "error dashed"}], [(None, "transparent"), (0.0, "red")], "dashed"),
    ([{"value": "y > 100", "display_type": "warning solid"}], [(None, "transparent"), (100.0, "orange")], "line+area"),
    ([{"value": "y < 60", "display_type": "ok dashed"}], [(None, "green"), (60.0, "transparent")], "dashed+area"),
    ([{"value": "10 < y < 20", "display_type": "info bold"}],
     [(None, "transparent"), (10.0, "blue"), (20.0, "transparent")], "line+area"),
])
def test_markers(markers, steps, style):
    t = from_markers(markers)
    assert [(s["value"], s["color"]) for s in t.steps] == steps
    assert t.style == style and not t.dropped


def test_unreadable_marker_is_reported():
    t = from_markers([{"value": "x = 3"}])
    assert t.dropped and t.empty and "x = 3" in t.notes[0]


@pytest.mark.parametrize("formats,steps,boundary_note", [
    # first matching rule wins: > 90 red, >= 70 yellow, otherwise green
    ([(">", 90, "white_on_red"), (">=", 70, "white_on_yellow"), ("<", 70, "white_on_green")],
     [(None, "green"), (70, "yellow"), (90, "red")], True),
    ([(">=", 5, "red_on_white")], [(None, "text"), (5, "red")], False),
    ([("<=", 5, "white_on_green"), (">", 5, "white_on_red")], [(None, "green"), (5, "red")], True),
    ([("<", 0, "custom_bg")], [(None, "#123456"), (0, "text")], False),
])
def test_conditional_formats(formats, steps, boundary_note):
    t = from_conditional_formats([{"comparator": c, "value": v, "palette": p, "custom_bg_color": "#123456"}
                                  for c, v, p in formats])
    assert [(s["value"], s["color"]) for s in t.steps] == steps
    assert bool(t.notes) == boundary_note


def test_color_mode_follows_palette():
    assert from_conditional_formats([{"comparator": ">", "value": 1, "palette": "white_on_red"}]).color_mode == "background"
    assert from_conditional_formats([{"comparator": ">", "value": 1, "palette": "red_on_white"}]).color_mode == "value"


@pytest.mark.parametrize("palette,color", [("white_on_red", "red"), ("black_on_light_yellow", "yellow"),
                                           ("green_on_white", "green"), ("white_on_gray", "#8e8e8e")])
def test_palette_color(palette, color):
    assert palette_color(palette) == color
