"""``--config``: the settings of a comparison that belong to particular items.

```yaml
label_map:                 # Datadog tag → Prometheus label (--label-map adds to it)
  host: node
items:                     # by coverage.json id (a widget's id covers all its queries)
  "12345": {tolerance: 0.2}                       # a noisy monitor
  "abc-def-ghi/17": {skip: "sums a sampled gauge"}
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dd2prom.emit.yamlio import yaml_problem


@dataclass
class Config:
    label_map: dict[str, str] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    skips: dict[str, str] = field(default_factory=dict)


def load_config(path: Path | None) -> Config:
    """The config file, checked; ValueError names what is wrong and where."""
    if path is None:
        return Config()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({yaml_problem(exc)})") from None
    if not isinstance(data, dict) or set(data) - {"label_map", "items"}:
        raise ValueError(f"{path}: expected a mapping with 'label_map' and 'items'")
    config = Config()
    label_map = data.get("label_map") or {}
    if not isinstance(label_map, dict) or not all(isinstance(v, str) and v for v in label_map.values()):
        raise ValueError(f"{path}: label_map must map tag names to label names")
    config.label_map = {str(k): v for k, v in label_map.items()}
    items = data.get("items") or {}
    if not isinstance(items, dict):
        raise ValueError(f"{path}: items must map coverage.json ids to settings")
    for item_id, settings in items.items():
        where = f"{path}: items[{item_id!r}]"
        if not isinstance(settings, dict) or not settings or set(settings) - {"tolerance", "skip"}:
            raise ValueError(f"{where} takes 'tolerance' and/or 'skip'")
        if "tolerance" in settings:
            tol = settings["tolerance"]
            if isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
                raise ValueError(f"{where}.tolerance must be a number ≥ 0")
            config.tolerances[str(item_id)] = float(tol)
        if "skip" in settings:
            config.skips[str(item_id)] = str(settings["skip"] or "skipped by the compare config")
    return config
