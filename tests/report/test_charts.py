"""Charts are valid SVG with a title, labelled axes, a legend and the 'today' marker,
and every line stays inside the plot area."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from dd2prom.report.charts import HEIGHT, LEFT, TOP, Line, LineChart, _ticks, nice_step, to_svg

NS = {"s": "http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("span,step", [(10, 2), (60, 10), (1000, 200), (0.3, 0.05), (0, 1.0), (2500, 500)])
def test_nice_step(span, step):
    assert nice_step(span) == pytest.approx(step)


@pytest.mark.parametrize("low,high", [(0, 95), (1, 60), (0, 1234.5), (0, 0.7)])
def test_ticks_cover_the_data(low, high):
    ticks = _ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    assert len(ticks) <= 12


def test_svg_has_title_axes_legend_and_marker():
    chart = LineChart("c", "Cost & more", "containers per host", "cost (USD per month)",
                      [Line("Datadog <pro>", [(1, 10.0), (60, 1234.0)]), Line("Prometheus", [(1, 300.0), (60, 310.0)], dashed=True)],
                      marker_x=25, marker_label="today: 25 per host")
    root = ET.fromstring(to_svg(chart))
    assert root.find("s:title", NS).text == "Cost & more"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    for expected in ("Cost & more", "containers per host", "cost (USD per month)", "Datadog <pro>", "Prometheus",
                     "today: 25 per host"):
        assert expected in texts
    lines = root.findall("s:polyline", NS)
    assert len(lines) == 2 and lines[1].get("stroke-dasharray")
    for line in lines:
        for pair in line.get("points").split():
            x, y = map(float, pair.split(","))
            assert LEFT <= x and TOP - 0.01 <= y <= HEIGHT
