"""Mapping tables (mappings/*.yaml): Datadog metric → PromQL, tag → label.
(Placeholder until the transpiler issue lands.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_mappings(user_file: Path | None = None) -> Any:
    return None
