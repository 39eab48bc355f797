"""The translation memo: the same query in the same context gives the same
translation (a copy), and nothing that changes the translation is shared."""

from __future__ import annotations

from dataclasses import replace

from dd2prom.convert.queries import TranslateContext, translate, translate_formula

QUERY = "avg(last_5m):avg:system.cpu.user{env:prod} by {host} > 90"


def test_same_query_same_context_is_an_equal_copy() -> None:
    ctx = TranslateContext(target="monitor")
    first = translate(QUERY, monitor=True, ctx=ctx)
    first.notes.append("changed by a caller")
    first.monitor.expr = "changed"
    second = translate(QUERY, monitor=True, ctx=ctx)
    assert second == translate(QUERY, monitor=True, ctx=TranslateContext(target="monitor"))
    assert "changed by a caller" not in second.notes and second.monitor.expr != "changed"
    assert len(ctx.memo) == 1


def test_derived_contexts_share_the_memo_but_not_results_of_other_settings() -> None:
    ctx = TranslateContext(target="monitor")
    plain = translate(QUERY, monitor=True, ctx=ctx)
    delayed = translate(QUERY, monitor=True, ctx=replace(ctx, offset_seconds=300))
    assert "offset 5m" in delayed.promql and "offset" not in plain.promql
    assert len(ctx.memo) == 2


def test_other_metadata_is_not_served_from_the_memo() -> None:
    ctx = TranslateContext(target="plain")
    gauge = translate("sum:app.hits{*}", ctx=ctx)
    counted = translate("sum:app.hits{*}", ctx=replace(ctx, metric_metadata={"app.hits": {"type": "count"}}))
    assert gauge.promql != counted.promql


def test_formula_memo_keys_on_the_queries() -> None:
    ctx = TranslateContext(target="plain")
    a = translate_formula("q1 / q2", {"q1": "sum:a.x{*}", "q2": "sum:a.y{*}"}, ctx=ctx)
    b = translate_formula("q1 / q2", {"q1": "sum:a.x{*}", "q2": "sum:a.z{*}"}, ctx=ctx)
    assert a.promql != b.promql and "a_z" in b.promql


def test_memo_key_covers_every_context_field() -> None:
    """A new TranslateContext field changes translations: it must join the memo key
    in translate._memoised (then add it here). (``copy_results`` only says whether
    the memo hands out copies.)"""
    from dataclasses import fields
    keyed = {"target", "metric_metadata", "mappings", "template_variables", "template_variable_tags",
             "default_window", "window", "offset_seconds", "check"}
    assert {f.name for f in fields(TranslateContext)} - {"memo", "copy_results"} == keyed


def test_readers_share_the_memo_translation_others_get_copies() -> None:
    ctx = TranslateContext(target="dashboard", copy_results=False)
    first = translate("avg:system.cpu.user{env:prod} by {host}", ctx=ctx)
    assert translate("avg:system.cpu.user{env:prod} by {host}", ctx=ctx) is first
    copying = replace(ctx, copy_results=True)
    copy = translate("avg:system.cpu.user{env:prod} by {host}", ctx=copying)
    assert copy == first and copy is not first and len(ctx.memo) == 1


def test_copy_covers_every_translation_field() -> None:
    """Translation.copy spells its fields out (speed): a new field must be added there."""
    from dataclasses import fields

    from dd2prom.convert.queries.types import MonitorCondition, Translation
    from dd2prom.model import Status
    t = Translation("q", "p", Status.APPROXIMATE, ["n"], ["m"], ["pm"], ["l"], ["g"], ["u"],
                    MonitorCondition("avg", 60, "x", ">", 1.0), "e")
    assert len(fields(Translation)) == 11
    c = t.copy()
    assert c == t
    assert all(getattr(c, f.name) is not getattr(t, f.name) for f in fields(t)
               if isinstance(getattr(t, f.name), (list, MonitorCondition)))


def test_a_context_that_does_not_check_gives_the_same_promql_unparsed() -> None:
    """check=False (dashboards parse every panel query built on a translation)
    skips only the parse: same PromQL, and the memo keeps the two apart."""
    from dd2prom.convert.queries import translate
    from unittest import mock
    checked, unchecked = TranslateContext(target="dashboard"), TranslateContext(target="dashboard", check=False)
    q = "sum:system.cpu.user{env:prod} by {host}"
    with mock.patch("dd2prom.convert.queries.translate.promql_error", return_value=None) as parse:
        a = translate(q, ctx=unchecked)
        assert parse.call_count == 0
        b = translate(q, ctx=checked)
        assert parse.call_count == 1
    assert a.ok and a.promql == b.promql and a.status == b.status
