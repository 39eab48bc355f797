"""Datadog query → PromQL transpiler.

Public interface (stable, used by monitors, dashboards, SLOs, compare):

* :func:`translate` — one Datadog metric query (optionally in monitor form).
* :func:`translate_formula` — a formulas-and-functions request
  (``formula`` over named ``queries``).
* :func:`scope_conjunctions` — a Datadog scope → conjunctions of label
  matchers (downtimes build silences from them).
* :class:`Translation` — the result: ``promql``, ``status``, ``notes``,
  metrics and labels used, and for monitors the parts of the condition.

Stages inside: ``lexer``/``parser`` (+ ``scope`` for what is inside braces)
→ typed AST (``ast``) with positions → ``generator`` (one method per node
type; Datadog functions in ``functions``; PromQL text helpers in
``promql_text``) using the mapping tables (``mapping``); ``translate`` runs
the stages, applies monitor windows and validates the PromQL.
"""

from dd2prom.convert.queries.types import (  # noqa: F401
    MonitorCondition,
    TranslateContext,
    Translation,
)
from dd2prom.convert.queries.translate import scope_conjunctions, translate, translate_formula  # noqa: F401
