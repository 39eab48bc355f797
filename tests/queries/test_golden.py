"""Golden translations (sqlglot validate_all style): every row of golden.yaml
translates to exactly its PromQL and status; all emitted PromQL parses
in-process and, in one batch, with promtool."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dd2prom.convert.queries import TranslateContext, translate, translate_formula
from dd2prom.validate.promql import promql_error

ROWS = yaml.safe_load((Path(__file__).parent / "golden.yaml").read_text())


def _translate(row: dict):
    target = row["target"]
    ctx = TranslateContext(target=target)
    if "queries" in row:        # a formula over named queries
        return translate_formula(row["datadog"], row["queries"], ctx=ctx)
    return translate(row["datadog"], monitor=target == "monitor", ctx=ctx)


def test_enough_rows() -> None:
    assert len(ROWS) >= 300


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['target']}:{r['datadog'][:60]}" for r in ROWS])
def test_golden(row: dict) -> None:
    result = _translate(row)
    assert (result.promql, result.status.value) == (row["promql"], row["status"]), result.notes
    if result.promql is not None:
        assert promql_error(result.promql) is None
    if result.status.value == "error":
        assert result.error and "^" in result.error or result.notes
    if result.status.value != "exact":
        assert result.notes


def test_promtool_accepts_every_golden_expression(tmp_path: Path) -> None:
    from tests.queries.promtool_batch import promtool_problems
    from tests.support import require_binary

    require_binary("promtool")
    problems = promtool_problems([r["promql"] for r in ROWS if r["promql"]], tmp_path)
    assert problems is None, problems
