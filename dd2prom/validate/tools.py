"""Wrappers around the real Prometheus tools from Debian's packages."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

BLACKBOX_BINARIES = ("prometheus-blackbox-exporter", "blackbox_exporter")


@dataclass
class ToolResult:
    ok: bool
    output: str
    command: list[str]


def which(*names: str) -> str | None:
    for n in names:
        path = shutil.which(n)
        if path:
            return path
    return None


def run_tool(args: Sequence[str | Path], timeout: float = 300) -> ToolResult:
    cmd = [str(a) for a in args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        return ToolResult(False, f"{cmd[0]}: not installed", cmd)
    except subprocess.TimeoutExpired:
        return ToolResult(False, f"{cmd[0]}: timed out after {timeout}s", cmd)
    return ToolResult(proc.returncode == 0, (proc.stdout or "") + (proc.stderr or ""), cmd)


def promtool_check_rules(files: Sequence[Path]) -> ToolResult:
    return run_tool(["promtool", "check", "rules", *files])


def promtool_test_rules(files: Sequence[Path]) -> ToolResult:
    return run_tool(["promtool", "test", "rules", *files])


def amtool_check_config(file: Path) -> ToolResult:
    return run_tool(["amtool", "check-config", file])


def amtool_routes_test(file: Path, labels: dict[str, str]) -> ToolResult:
    return run_tool(["amtool", "config", "routes", "test", f"--config.file={file}",
                     *(f"{k}={v}" for k, v in labels.items())])


def blackbox_check_config(file: Path) -> ToolResult:
    exe = which(*BLACKBOX_BINARIES) or "prometheus-blackbox-exporter"
    return run_tool([exe, f"--config.file={file}", "--config.check"])
