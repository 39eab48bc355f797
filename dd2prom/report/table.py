"""A report table as data: the HTML page, the Markdown page and the CSV file are all
rendered from the same rows, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Table:
    name: str                      # CSV file stem
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    html_limit: int | None = None  # show at most this many rows in the documents (CSV has all)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([[_cell(v) for v in row] for row in self.rows], columns=self.columns, dtype=object)

    def write_csv(self, folder: Path) -> Path:
        path = folder / f"{self.name}.csv"
        self.frame().to_csv(path, index=False)
        return path

    @property
    def shown(self) -> list[list[Any]]:
        rows = self.rows if self.html_limit is None else self.rows[: self.html_limit]
        return [[_cell(v) for v in row] for row in rows]

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.shown)


def _cell(value: Any) -> Any:
    """12.0 reads as 12: counts computed as floats print as whole numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def money(value: float) -> str:
    return f"${value:,.2f}"
