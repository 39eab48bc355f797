"""Datadog units → Grafana unit ids.

Datadog names a unit (``byte``, ``millisecond``, ``request``...) and
optionally a "per" unit (``second``). Grafana has one id per combination it
knows (``bytes``, ``ms``, ``reqps``...) and ``suffix:<text>`` for any other,
which keeps the text Datadog showed. A panel's unit comes, in order, from the
formula's ``number_format``, the widget's ``custom_unit``, then the metric
metadata of the metrics it reads (only when they all agree).
"""

from __future__ import annotations

from typing import Any, Iterable

# Datadog unit name → Grafana unit id. Datadog's byte family is binary (KiB).
UNITS: dict[str, str] = {
    "bit": "bits", "byte": "bytes", "byte_in_binary_bytes_family": "bytes",
    "byte_in_decimal_bytes_family": "decbytes",
    "kibibyte": "kbytes", "mebibyte": "mbytes", "gibibyte": "gbytes", "tebibyte": "tbytes",
    "pebibyte": "pbytes",
    "kilobyte": "deckbytes", "megabyte": "decmbytes", "gigabyte": "decgbytes", "terabyte": "dectbytes",
    "nanosecond": "ns", "microsecond": "µs", "millisecond": "ms", "second": "s",
    "minute": "m", "hour": "h", "day": "d",
    "percent": "percent", "fraction": "percentunit",
    "hertz": "hertz", "degree celsius": "celsius", "degree fahrenheit": "fahrenheit",
    "dollar": "currencyUSD", "euro": "currencyEUR",
}

# (unit, per unit) → Grafana rate unit id.
RATES: dict[tuple[str, str], str] = {
    ("byte", "second"): "binBps", ("bit", "second"): "bps",
    ("kibibyte", "second"): "KiBs", ("mebibyte", "second"): "MiBs", ("gibibyte", "second"): "GiBs",
    ("request", "second"): "reqps", ("operation", "second"): "ops", ("read", "second"): "rps",
    ("write", "second"): "wps", ("request", "minute"): "reqpm", ("operation", "minute"): "opm",
    ("kilobyte", "second"): "KBs", ("megabyte", "second"): "MBs", ("gigabyte", "second"): "GBs",
    ("kilobit", "second"): "Kbits", ("megabit", "second"): "Mbits", ("gigabit", "second"): "Gbits",
    ("packet", "second"): "pps",
}

# Text a widget's free-form custom_unit may hold that is really a known unit.
CUSTOM_ALIASES: dict[str, str] = {
    "%": "percent", "ms": "ms", "s": "s", "seconds": "s", "sec": "s", "min": "m", "minutes": "m",
    "μs": "µs", "µs": "µs", "us": "µs", "ns": "ns", "bytes": "bytes", "b": "bytes",
    "mbps": "Mbits", "req/s": "reqps", "ops/s": "ops", "hrs": "h", "hours": "h",
}


def _plural(name: str) -> str:
    if name.endswith("s"):
        return name
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"      # query → queries (not "querys")
    return name + "s"


def grafana_unit(unit: str | None, per_unit: str | None = None) -> str | None:
    """The Grafana unit id for a Datadog unit (and optional per unit)."""
    if not isinstance(unit, str) or not unit.strip():
        return None
    unit = unit.strip().lower()
    per = per_unit.strip().lower() if isinstance(per_unit, str) and per_unit.strip() else None
    if per:
        if (unit, per) in RATES:
            return RATES[(unit, per)]
        return f"suffix: {_plural(unit)}/{per}"
    if unit in UNITS:
        return UNITS[unit]
    return f"suffix: {_plural(unit)}"


def custom_unit(text: Any) -> str | None:
    """A widget's ``custom_unit`` (free text shown after the value)."""
    if not isinstance(text, str) or not text.strip():
        return None
    stripped = text.strip()
    known = CUSTOM_ALIASES.get(stripped.lower())
    if known:
        return known
    return f"suffix: {stripped}" if text.startswith(" ") else f"suffix:{stripped}"


def number_format_unit(number_format: Any) -> str | None:
    """A formula's ``number_format.unit``: a canonical unit or a custom label."""
    if not isinstance(number_format, dict):
        return None
    unit = number_format.get("unit")
    if not isinstance(unit, dict):
        return None
    if unit.get("type") == "custom_unit_label":
        return custom_unit(unit.get("label"))
    return grafana_unit(unit.get("unit_name"), unit.get("per_unit_name"))


def metadata_unit(metrics: Iterable[str], metadata: dict[str, dict[str, Any]]) -> str | None:
    """The unit of the metrics read, when the snapshot's metadata gives one and
    every metric with a unit agrees (a ratio of bytes to seconds has no single unit)."""
    found: set[str] = set()
    for metric in metrics:
        meta = metadata.get(metric) or {}
        unit = grafana_unit(meta.get("unit"), meta.get("per_unit"))
        if unit:
            found.add(unit)
    return found.pop() if len(found) == 1 else None
