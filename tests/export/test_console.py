"""Console output prints remote and user text as it is: no rich markup may eat
square brackets (YAML errors, PromQL ranges, API messages) or backslashes."""

from __future__ import annotations

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from dd2prom.export.command import print_summary


def yaml_error() -> str:
    try:
        yaml.safe_load("a: [unclosed")
    except yaml.YAMLError as exc:
        return f"conf.d/x.yaml: {exc}"
    raise AssertionError("YAML accepted")


TEXTS = [yaml_error(), "bad [bold]markup[/bold], [/] and a trailing backslash \\",
         "rate(x[5m]) over [red]", "[link=http://example.com]click[/link]"]


@pytest.mark.parametrize("text", TEXTS)
def test_export_summary_prints_messages_verbatim(text):
    console = Console(record=True, width=400)
    print_summary({"api_url": "http://[::1]:8080/[x]", "run": {"monitors": {"listed": 1}}, "counts": {"monitors": 1},
                   "errors": [{"kind": "checks", "id": "[a]", "operation": "import", "message": text}],
                   "warnings": [{"kind": "monitors", "id": None, "message": text}]}, console)
    out = console.export_text()
    assert f"error checks/[a] (import): {text}" in out
    assert f"warning monitors: {text}" in out
    assert "export from http://[::1]:8080/[x]" in out


def test_export_summary_of_local_sources_only_names_no_api():
    console = Console(record=True, width=200)
    print_summary({"api_url": "https://api.datadoghq.com", "run": {}, "counts": {"checks": 3}, "errors": [],
                   "warnings": []}, console)
    out = console.export_text()
    assert "import of the --from sources (no API request)" in out and "datadoghq.com" not in out
    assert "requests" not in out


@pytest.mark.parametrize("text", TEXTS)
def test_convert_cli_prints_errors_verbatim(text, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from dd2prom import convert
    from dd2prom.cli import app
    from dd2prom.model import Ledger

    ctx = SimpleNamespace(ledger=Ledger(), shared={"errors": [text]})
    monkeypatch.setattr(convert, "run_convert", lambda *a, **k: ctx)
    (tmp_path / "monitors").mkdir()   # a snapshot folder, however empty
    result = CliRunner().invoke(app, ["convert", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"error: {text}" in result.output, result.output
