"""Line charts as inline SVG, built as an element tree and serialised: no JavaScript,
no external files, so the report opens offline in any browser. Each chart has a
title, labelled axes with units, a legend, and optionally a marker where the
organisation is today."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

PALETTE = ("#632ca6", "#e6550d", "#31a354", "#3182bd")
WIDTH, HEIGHT = 760, 440
LEFT, RIGHT, TOP, BOTTOM = 78, 20, 48, 100
LEGEND_COLUMNS = 2


@dataclass
class Line:
    name: str
    points: list[tuple[float, float]]
    dashed: bool = False


@dataclass
class LineChart:
    id: str
    title: str
    x_label: str
    y_label: str
    lines: list[Line] = field(default_factory=list)
    marker_x: float | None = None
    marker_label: str = ""


def nice_step(span: float, target_ticks: int = 6) -> float:
    """A 1/2/5 x 10^k step that cuts ``span`` into about ``target_ticks`` parts."""
    if span <= 0:
        return 1.0
    raw = span / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _ticks(low: float, high: float) -> list[float]:
    """Ticks from at or below ``low`` to at or above ``high``, so nothing is drawn off the axes."""
    step = nice_step(high - low)
    start = math.floor(low / step) * step
    end = math.ceil(high / step - 1e-9) * step
    count = int(round((end - start) / step))
    return [round(start + i * step, 10) for i in range(count + 1)]


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def to_svg(chart: LineChart) -> str:
    """The chart as an ``<svg>`` string to embed in HTML."""
    xs = [x for line in chart.lines for x, _ in line.points] or [0.0, 1.0]
    ys = [y for line in chart.lines for _, y in line.points] or [0.0, 1.0]
    x_ticks = _ticks(min(xs), max(xs))
    y_ticks = _ticks(0.0, max(ys) or 1.0)
    x0, x1, y1 = x_ticks[0], x_ticks[-1], y_ticks[-1]
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / ((x1 - x0) or 1) * pw

    def py(y: float) -> float:
        return TOP + ph - y / (y1 or 1) * ph

    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "viewBox": f"0 0 {WIDTH} {HEIGHT}",
                             "width": str(WIDTH), "height": str(HEIGHT), "role": "img",
                             "aria-labelledby": f"{chart.id}-title", "class": "chart", "id": chart.id})
    _el(svg, "title", chart.title, id=f"{chart.id}-title")
    _el(svg, "rect", x=0, y=0, width=WIDTH, height=HEIGHT, fill="#ffffff")
    _el(svg, "text", chart.title, x=WIDTH / 2, y=24, text_anchor="middle", font_size=16, font_weight="bold")
    axes = _el(svg, "g", font_size=11, fill="#333333")
    for y in y_ticks:
        _el(axes, "line", x1=LEFT, x2=LEFT + pw, y1=f"{py(y):.1f}", y2=f"{py(y):.1f}", stroke="#e5e5e5")
        _el(axes, "text", _fmt(y), x=LEFT - 6, y=f"{py(y) + 4:.1f}", text_anchor="end")
    for x in x_ticks:
        _el(axes, "line", x1=f"{px(x):.1f}", x2=f"{px(x):.1f}", y1=TOP + ph, y2=TOP + ph + 5, stroke="#333333")
        _el(axes, "text", _fmt(x), x=f"{px(x):.1f}", y=TOP + ph + 18, text_anchor="middle")
    _el(axes, "line", x1=LEFT, x2=LEFT + pw, y1=TOP + ph, y2=TOP + ph, stroke="#333333")
    _el(axes, "line", x1=LEFT, x2=LEFT, y1=TOP, y2=TOP + ph, stroke="#333333")
    _el(svg, "text", chart.x_label, x=LEFT + pw / 2, y=TOP + ph + 38, text_anchor="middle", font_size=13)
    _el(svg, "text", chart.y_label, x=18, y=TOP + ph / 2, text_anchor="middle", font_size=13,
        transform=f"rotate(-90 18 {TOP + ph / 2})")
    if chart.marker_x is not None:
        mx = px(chart.marker_x)
        _el(svg, "line", x1=f"{mx:.1f}", x2=f"{mx:.1f}", y1=TOP, y2=TOP + ph, stroke="#555555",
            stroke_dasharray="4 3", class_="marker")
        _el(svg, "text", chart.marker_label, x=f"{mx + 5:.1f}", y=TOP + 12, font_size=12, fill="#555555")
    for i, line in enumerate(chart.lines):
        color = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in line.points)
        attrs = {"stroke_dasharray": "7 4"} if line.dashed else {}
        _el(svg, "polyline", points=pts, fill="none", stroke=color, stroke_width=2.5, class_="series", **attrs)
        lx = LEFT + (i % LEGEND_COLUMNS) * (pw / LEGEND_COLUMNS)
        ly = HEIGHT - 42 + 18 * (i // LEGEND_COLUMNS)
        _el(svg, "line", x1=f"{lx:.1f}", x2=f"{lx + 24:.1f}", y1=ly, y2=ly, stroke=color, stroke_width=3, **attrs)
        _el(svg, "text", line.name, x=f"{lx + 30:.1f}", y=ly + 4, font_size=12)
    return ET.tostring(svg, encoding="unicode")
