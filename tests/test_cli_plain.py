"""main() runs a plain ``convert`` command line without typer's parsing (see
dd2prom.cli.plain_call): it must pass exactly what typer would, and leave
everything else (help, errors, unusual values) to typer."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from dd2prom import cli
from dd2prom.resources import sample_org_dir


def typer_params(args: list[str]) -> dict:
    """What typer passes to the command for ``args`` (its own parsing and coercion)."""
    command = typer.main.get_command(cli.app).commands[args[0]]
    return command.make_context(args[0], list(args[1:])).params


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "snap").mkdir()
    (tmp_path / "map.yaml").write_text("metrics: {}\n")
    (tmp_path / "crds").mkdir()
    return tmp_path


PLAIN = [
    ["convert", "{t}/snap", "--out", "{t}/out"],
    ["convert", "{t}/snap", "-o", "{t}/out", "--jobs", "1"],
    ["convert", "--out={t}/out", "{t}/snap", "-j2"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", "0", "--jobs", "3"],   # the last one counts
    ["convert", "{t}/snap", "--out", "{t}/out", "--namespace", "", "--release-label", "prom-op",
     "--group-by-tag", "service", "--grafana-folder", "Ops", "--blackbox-url", "bb:9115",
     "--only", "monitors,dashboards", "--blackbox-servicemonitors"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--mappings", "{t}/map.yaml", "--crd-dir", "{t}/crds"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--crd-dir", "{t}/no-such-folder"],   # checked by convert itself
    ["convert", "{t}/snap", "--out", "{t}/snap"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--namespace", "-v"],
]

NOT_PLAIN = [
    [],
    ["--help"],
    ["-v", "convert", "{t}/snap", "--out", "{t}/out"],        # options before the command
    ["--version"],
    ["verify", "{t}/snap"],
    ["convert", "--help"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--help"],
    ["convert", "{t}/snap"],                                  # --out missing
    ["convert", "--out", "{t}/out"],                          # snapshot missing
    ["convert", "{t}/snap", "--out"],
    ["convert", "{t}/snap", "--out", "{t}/out", "extra"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--", "x"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--no-such-option"],
    ["convert", "{t}/no-such-folder", "--out", "{t}/out"],
    ["convert", "{t}/map.yaml", "--out", "{t}/out"],          # a file, not a folder
    ["convert", "{t}/snap", "--out", ""],
    ["convert", "{t}/snap", "--out", "{t}/out", "--mappings", "{t}/crds"],   # a folder, not a file
    ["convert", "{t}/snap", "--out", "{t}/out", "--mappings", "{t}/no-such.yaml"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", "-1"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", "two"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", "007"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", " 2"],
    ["convert", "{t}/snap", "--out", "{t}/out", "--jobs", "\u0662"],         # a non-ASCII digit
]


def _fill(args: list[str], tmp_path) -> list[str]:
    return [a.replace("{t}", str(tmp_path)) for a in args]


@pytest.mark.parametrize("args", PLAIN)
def test_a_plain_command_line_gets_what_typer_would_pass(args, paths):
    args = _fill(args, paths)
    got = cli.plain_call(args)
    assert got is not None
    want = typer_params(args)
    assert got == want and {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}


@pytest.mark.parametrize("args", NOT_PLAIN)
def test_anything_else_is_left_to_typer(args, paths):
    assert cli.plain_call(_fill(args, paths)) is None


def test_the_callback_gets_the_defaults_typer_gives_it():
    group = typer.main.get_command(cli.app)
    assert group.make_context("dd2prom", ["convert"]).params == cli.PLAIN_APP_OPTIONS


def _dd2prom(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dd2prom", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_the_process_exits_as_typer_would(tmp_path):
    """Through main(): a convert refusing its input exits 2 with its message,
    a run exits 0 or 1, and typer still reports a bad option."""
    p = _dd2prom("convert", tmp_path, "--out", tmp_path / "out")
    assert p.returncode == 2 and "holds no Datadog objects" in p.stderr
    p = _dd2prom("convert", sample_org_dir(), "--out", tmp_path / "out", "--jobs", "1")
    assert p.returncode in (0, 1) and "items in coverage.json" in " ".join(p.stderr.split())
    p = _dd2prom("convert", sample_org_dir(), "--out", tmp_path / "out2", "--jobs", "-1")
    assert p.returncode == 2 and "--jobs" in p.stderr and not (tmp_path / "out2").exists()
