"""Datadog units → Grafana unit ids."""

from __future__ import annotations

import pytest

from dd2prom.convert.dashboards.units import custom_unit, grafana_unit, metadata_unit, number_format_unit


@pytest.mark.parametrize("unit,per,expected", [
    ("byte", None, "bytes"), ("mebibyte", None, "mbytes"), ("gigabyte", None, "decgbytes"),
    ("byte_in_decimal_bytes_family", None, "decbytes"), ("percent", None, "percent"),
    ("fraction", None, "percentunit"), ("second", None, "s"), ("millisecond", None, "ms"),
    ("microsecond", None, "µs"), ("nanosecond", None, "ns"), ("byte", "second", "binBps"),
    ("bit", "second", "bps"), ("request", "second", "reqps"), ("operation", "second", "ops"),
    ("error", None, "suffix: errors"), ("query", "second", "suffix: queries/second"),
    ("key", None, "suffix: keys"), ("kilobyte", "second", "KBs"), ("megabit", "second", "Mbits"),
    ("packet", "second", "pps"),
    ("packet", "minute", "suffix: packets/minute"), (None, None, None), ("", "second", None),
])
def test_grafana_unit(unit, per, expected):
    assert grafana_unit(unit, per) == expected


@pytest.mark.parametrize("text,expected", [
    ("%", "percent"), ("ms", "ms"), (" seconds", "s"), ("μs", "µs"), ("$/day", "suffix:$/day"),
    (" $/week", "suffix: $/week"), ("cores", "suffix:cores"), ("", None), (None, None),
])
def test_custom_unit(text, expected):
    assert custom_unit(text) == expected


@pytest.mark.parametrize("nf,expected", [
    ({"unit": {"type": "canonical_unit", "unit_name": "mebibyte"}}, "mbytes"),
    ({"unit": {"type": "canonical_unit", "unit_name": "byte", "per_unit_name": "second"}}, "binBps"),
    ({"unit": {"type": "custom_unit_label", "label": "ops/s"}}, "ops"),
    ({"unit": {"type": "custom_unit_label", "label": " errors"}}, "suffix: errors"),
    ({"unit": {"type": "canonical_unit"}}, None), (None, None), ({"unit": "x"}, None),
])
def test_number_format_unit(nf, expected):
    assert number_format_unit(nf) == expected


def test_metadata_unit_only_when_metrics_agree():
    meta = {"a": {"unit": "byte"}, "b": {"unit": "byte"}, "c": {"unit": "second"}, "d": {}}
    assert metadata_unit(["a", "b", "d"], meta) == "bytes"
    assert metadata_unit(["a", "c"], meta) is None
    assert metadata_unit(["d"], meta) is None
