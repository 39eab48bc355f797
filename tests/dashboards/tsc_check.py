"""Type-checks Grafana dashboards against @grafana/schema with the TypeScript compiler.

Each dashboard becomes ``const d: Dashboard = <json>;`` in its own .ts file
(``Dashboard`` from tsc/dashboard.ts: @grafana/schema's type with per-panel
options), and one ``tsc`` run checks them all."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support import IN_CI, require_binary

TSC_DIR = Path(__file__).parent / "tsc"


def tsc_available() -> Path:
    require_binary("node")
    tsc = TSC_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.is_file() or not (TSC_DIR / "node_modules" / "@grafana" / "schema").is_dir():
        if IN_CI:
            pytest.fail("tests/dashboards/tsc/node_modules is missing (scripts/install-test-deps.sh installs it)")
        pytest.skip("run `npm install` in tests/dashboards/tsc (scripts/install-test-deps.sh does)")
    return tsc


def typecheck(dashboards: dict[str, dict]) -> list[str]:
    """tsc's error lines, each prefixed with the dashboard it is about; [] when all type-check."""
    tsc = tsc_available()
    gen = Path(tempfile.mkdtemp(prefix=".gen-", dir=TSC_DIR))
    try:
        names = {}
        for i, (name, dashboard) in enumerate(sorted(dashboards.items())):
            f = gen / f"d{i}.ts"
            names[f.name] = name
            f.write_text("import type { Dashboard } from '../dashboard';\n"
                         f"export const d: Dashboard = {json.dumps(dashboard, indent=1)};\n", encoding="utf-8")
        (gen / "tsconfig.json").write_text(json.dumps({"extends": "../tsconfig.json", "files": sorted(names)}),
                                           encoding="utf-8")
        r = subprocess.run(["node", str(tsc), "-p", str(gen / "tsconfig.json"), "--pretty", "false"],
                           capture_output=True, text=True, timeout=600)
        errors = [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
        if r.returncode and not errors:
            errors = [f"tsc exited with {r.returncode}"]
        return [re.sub(r"^(?:.*/)?(d\d+\.ts)", lambda m: names.get(m.group(1), m.group(1)), e) for e in errors]
    finally:
        shutil.rmtree(gen, ignore_errors=True)
