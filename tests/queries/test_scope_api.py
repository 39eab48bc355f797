"""Scopes outside whole queries: template variables inside tag values (with the
dashboard's Grafana names) and the public scope → matchers function."""

from __future__ import annotations

import pytest

from dd2prom.convert.queries import TranslateContext, scope_conjunctions, translate
from dd2prom.convert.queries.lexer import QuerySyntaxError


def test_variable_inside_a_value_uses_the_dashboards_grafana_name() -> None:
    ctx = TranslateContext(target="dashboard", template_variables={"sync.table.name": "table"})
    result = translate("sum:my.metric{resource_name:sync.table.$sync.table.name.value}", ctx=ctx)
    assert result.promql == 'sum(my_metric{resource_name=~"sync\\\\.table\\\\.${table}"})'


@pytest.mark.parametrize("scope, expected", [
    ("*", [[]]),
    ("env:prod,!host:web-*", [[("env", "=", "prod"), ("instance", "!~", "web-.*(:[0-9]+)?")]]),
    ("env:prod OR role:db", [[("env", "=", "prod")], [("role", "=", "db")]]),
    ("NOT (env:a OR env:b)", [[("env", "!=", "a"), ("env", "!=", "b")]]),
    ("kube_cluster_name:prod", [[("cluster", "=~", "prod|")]]),
    ("region IN (eu,us)", [[("region", "=~", "eu|us")]]),
])
def test_scope_conjunctions(scope: str, expected: list) -> None:
    assert scope_conjunctions(scope) == expected


def test_scope_conjunctions_raises_on_bad_scope() -> None:
    with pytest.raises(QuerySyntaxError):
        scope_conjunctions("env:prod AND")
