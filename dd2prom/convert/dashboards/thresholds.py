"""Markers and conditional formats → Grafana thresholds.

Datadog draws *markers* (``y = 80``, ``y > 90``, ``10 < y < 20``) on graphs
and colours single values with *conditional formats* (first matching rule
wins). Grafana has one thing for both: an ordered list of threshold steps,
each colouring ``[value, next value)``. Conditional formats are turned into
steps by evaluating the Datadog rules on every interval between their values,
so the colours match everywhere except, possibly, exactly on a boundary
(reported when that happens).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any

BASE_COLOR = "green"
NO_COLOR = "transparent"   # markers colour only what they mark

# Datadog marker / conditional format colours → Grafana colour names.
SEVERITY_COLORS = {"error": "red", "warning": "orange", "ok": "green", "info": "blue"}
PALETTE_COLORS = {
    "red": "red", "yellow": "yellow", "green": "green", "gray": "#8e8e8e", "grey": "#8e8e8e",
    "orange": "orange", "blue": "blue", "purple": "purple", "white": "transparent",
}
COMPARATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
               "=": operator.eq, "==": operator.eq}

_MARKER_RE = re.compile(
    r"^\s*(?:(?P<lo>-?[\d.eE+]+)\s*<\s*y\s*<\s*(?P<hi>-?[\d.eE+]+)"
    r"|y\s*(?P<op>=|>=|<=|>|<)\s*(?P<v>-?[\d.eE+]+))\s*$")


@dataclass
class Thresholds:
    """Threshold steps plus how to draw them, and sentences about what differs."""

    steps: list[dict[str, Any]] = field(default_factory=lambda: [{"color": BASE_COLOR, "value": None}])
    style: str | None = None          # timeseries thresholdsStyle.mode
    color_mode: str | None = None     # stat colorMode: "background" or "value"
    notes: list[str] = field(default_factory=list)
    dropped: bool = False             # a marker or rule could not be carried over

    @property
    def empty(self) -> bool:
        return len(self.steps) == 1

    def field_config(self) -> dict[str, Any]:
        return {"mode": "absolute", "steps": self.steps}


def palette_color(palette: str | None, custom_bg: str | None = None, custom_fg: str | None = None) -> str:
    """The colour a conditional-format palette paints (background for
    ``white_on_X``, text for ``X_on_white``)."""
    palette = str(palette or "").lower()
    if palette == "custom_bg" and custom_bg:
        return custom_bg
    if palette in ("custom_text", "custom_fg") and custom_fg:
        return custom_fg
    parts = palette.split("_on_")
    key = parts[-1] if parts[0] in ("white", "black") and len(parts) == 2 else parts[0]
    key = key.replace("light_", "").replace("dark_", "")
    return PALETTE_COLORS.get(key, "red")


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def from_markers(markers: Any) -> Thresholds:
    """Graph markers → threshold lines (``y = v``) or areas (``y > v``, ranges)."""
    out = Thresholds(steps=[{"color": NO_COLOR, "value": None}])
    lines: list[tuple[float, str]] = []
    area = False
    dashed = False
    for marker in markers if isinstance(markers, list) else []:
        if not isinstance(marker, dict):
            continue
        text = str(marker.get("value") or "")
        display = str(marker.get("display_type") or "error dashed").split()
        color = SEVERITY_COLORS.get(display[0] if display else "error", "red")
        dashed = dashed or "dashed" in display
        m = _MARKER_RE.match(text)
        if not m:
            out.notes.append(f"Marker {text!r} is not a constant line or range; it was not carried over.")
            out.dropped = True
            continue
        if m.group("lo") is not None:
            lines += [(float(m.group("lo")), color), (float(m.group("hi")), NO_COLOR)]
            area = True
        elif m.group("op") == "=":
            lines.append((float(m.group("v")), color))
        elif m.group("op") in (">", ">="):
            lines.append((float(m.group("v")), color))
            area = True
        else:
            out.steps[0] = {"color": color, "value": None}
            lines.append((float(m.group("v")), NO_COLOR))
            area = True
        if marker.get("label"):
            out.notes.append(f"Marker label {marker['label']!r} is not shown (Grafana threshold lines have no labels).")
    for value, color in sorted(lines):
        out.steps.append({"color": color, "value": value})
    if lines:
        out.style = ("dashed" if dashed else "line") + ("+area" if area else "")
    return out


def from_conditional_formats(formats: Any) -> Thresholds:
    """Conditional formats (first match wins) → equivalent threshold steps."""
    out = Thresholds()
    rules = []
    for cf in formats if isinstance(formats, list) else []:
        if not isinstance(cf, dict):
            continue
        op = COMPARATORS.get(str(cf.get("comparator")))
        value = _number(cf.get("value"))
        if op is None or value is None:
            out.notes.append(f"Conditional format {cf!r} could not be read; it was not carried over.")
            out.dropped = True
            continue
        if cf.get("image_url") or cf.get("palette") == "custom_image":
            out.notes.append("Conditional format images are not supported by Grafana; the colour is used instead.")
        palette = str(cf.get("palette") or "")
        rules.append((op, value, palette_color(palette, cf.get("custom_bg_color"), cf.get("custom_fg_color"))))
        if out.color_mode is None:
            out.color_mode = "value" if palette.endswith("_on_white") or palette == "custom_text" else "background"
    if not rules:
        return out

    def color_at(x: float) -> str:
        for op, value, color in rules:
            if op(x, value):
                return color
        return "text"

    points = sorted({v for _, v, _ in rules})
    out.steps = [{"color": color_at(points[0] - 1), "value": None}]
    for i, p in enumerate(points):
        right = color_at((p + points[i + 1]) / 2 if i + 1 < len(points) else p + 1)
        if color_at(p) != right:
            out.notes.append(f"At exactly {p:g} Datadog's colour and Grafana's differ "
                             "(Grafana thresholds start at their value).")
        if right != out.steps[-1]["color"]:
            out.steps.append({"color": right, "value": p})
    return out
