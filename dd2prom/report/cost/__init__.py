"""Prices, allotments and sizing rules: ``mappings/pricing.yaml`` merged with the
user's ``--pricing FILE``. Every constant read through :class:`Pricing` is
remembered, so the report can print each number it used with its source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dd2prom.emit.yamlio import yaml_problem
from dd2prom.resources import mappings_dir

DEFAULT_FILE = "pricing.yaml"


class PricingError(ValueError):
    """The pricing file cannot be used (unreadable YAML, a non-number where a number belongs)."""


@dataclass(frozen=True)
class Constant:
    key: str
    value: Any
    unit: str = ""
    source: str = ""
    as_of: str = ""
    verification: str = ""


def _is_constant(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node


def _merge(base: Any, override: Any, origin: str) -> Any:
    """Deep-merge ``override`` into ``base``. A bare value replacing a constant keeps
    the constant's unit and names the override file as its source."""
    if _is_constant(base):
        if _is_constant(override):
            merged = {**base, **override}
            if "source" not in override:
                merged.update(source=origin, as_of="", verification="yours")
            return merged
        if isinstance(override, dict):
            raise PricingError(f"{origin}: expected a value or {{value: ...}} where the defaults have a constant")
        return {**base, "value": override, "source": origin, "as_of": "", "verification": "yours"}
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(base[key], value, origin) if key in base else value
        return out
    return override


class Pricing:
    """Read constants by dotted key, e.g. ``pricing.number("prometheus.retention_days")``."""

    def __init__(self, tree: dict[str, Any], origin: str = "defaults") -> None:
        self.tree = tree
        self.origin = origin
        self.used: dict[str, Constant] = {}

    @classmethod
    def load(cls, override: Path | str | None = None) -> "Pricing":
        tree = _read(mappings_dir() / DEFAULT_FILE)
        origin = f"{mappings_dir() / DEFAULT_FILE}"
        if override is not None:
            tree = _merge(tree, _read(Path(override)), f"your pricing file {Path(override).name}")
            origin += f" + {override}"
        return cls(tree, origin)

    def _node(self, key: str) -> Any:
        node: Any = self.tree
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise PricingError(f"pricing: no entry {key!r}")
            node = node[part]
        return node

    def text(self, key: str) -> str:
        """A plain setting (plan names, billing mode, instance type): not a priced constant."""
        return str(self._node(key))

    def constant(self, key: str) -> Constant:
        node = self._node(key)
        raw = node if _is_constant(node) else {"value": node}
        c = Constant(key=key, value=raw["value"], unit=str(raw.get("unit", "")), source=str(raw.get("source", "")),
                     as_of=str(raw.get("as_of", "")), verification=str(raw.get("verification", "")))
        self.used[key] = c
        return c

    def number(self, key: str) -> float:
        value = self.constant(key).value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PricingError(f"pricing: {key} must be a number, got {value!r}")
        return float(value)

    def attribute(self, key: str, name: str) -> Any:
        """A side field of a constant (e.g. ``alternative``), None when absent."""
        node = self._node(key)
        return node.get(name) if _is_constant(node) else None

    def plans(self) -> list[str]:
        return sorted(self._node("datadog.plans"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PricingError(f"cannot read pricing file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PricingError(f"pricing file {path}: not valid YAML ({yaml_problem(exc)})") from exc
    if not isinstance(data, dict):
        raise PricingError(f"pricing file {path} is not a YAML mapping")
    return data


@dataclass(frozen=True)
class CostLine:
    """One priced line of a monthly bill: what, how many, how many are included, the price."""

    item: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float
    included: float = 0.0
    basis: str = ""       # one sentence: how quantity and price were obtained

    @property
    def billable(self) -> float:
        return max(0.0, self.quantity - self.included)


@dataclass
class Bill:
    """A monthly bill made of lines; ``yearly`` is twelve of them."""

    name: str
    lines: list[CostLine]

    @property
    def monthly(self) -> float:
        return sum(line.monthly for line in self.lines)

    @property
    def yearly(self) -> float:
        return 12 * self.monthly
