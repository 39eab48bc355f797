"""Where the top-level data folders (mappings/, templates/, examples/) are:
next to the package in a checkout or editable install, under
<prefix>/share/dd2prom when installed from a wheel."""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    for base in (_REPO, Path(sys.prefix) / "share" / "dd2prom"):
        candidate = base / name
        if candidate.exists():
            return candidate
    return _REPO / name


def mappings_dir() -> Path:
    return data_dir("mappings")


def templates_dir() -> Path:
    return data_dir("templates")


def sample_org_dir() -> Path:
    return data_dir("examples/sample-org")
