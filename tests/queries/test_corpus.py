"""Every query of ../shared/corpus (monitors and dashboard widgets) goes
through the transpiler: no exception, no invalid PromQL; counts per status
are printed (pytest -s) for the report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from dd2prom.convert.queries import TranslateContext, translate, translate_formula
from dd2prom.validate.promql import promql_error
from tests.queries.corpus import iter_queries
from tests.support import shared_dir

pytestmark = pytest.mark.corpus


def translate_corpus(root: Path):
    for q in iter_queries(root):
        ctx = TranslateContext(target="monitor" if q.kind == "monitor" else "dashboard")
        if q.kind == "formula":
            yield q, translate_formula(q.query, q.queries, ctx=ctx)
        else:
            yield q, translate(q.query, monitor=q.kind == "monitor", ctx=ctx)


def test_corpus_translates_without_errors(tmp_path: Path) -> None:
    root = shared_dir("corpus")
    counts: Counter = Counter()
    emitted: list[str] = []
    errors: list[str] = []
    for q, result in translate_corpus(root):
        counts[(q.kind, result.status.value)] += 1
        if result.promql is not None:
            assert promql_error(result.promql) is None, (q.query, result.promql)
            emitted.append(result.promql)
        if result.status.value == "error":
            errors.append(f"{q.source}: {q.query[:120]}: {result.error}")
        assert result.status.value == "error" or result.notes or result.status.value == "exact"
    print("\ncorpus translation status counts:")
    for (kind, status), n in sorted(counts.items()):
        print(f"  {kind:8} {status:12} {n}")
    assert sum(counts.values()) > 100
    assert not errors, "\n".join(errors[:20])

    from tests.queries.promtool_batch import promtool_problems
    from tests.support import require_binary

    require_binary("promtool")
    assert promtool_problems(sorted(set(emitted)), tmp_path) is None
