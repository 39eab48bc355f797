"""Entry points of the transpiler. (Placeholder until the parser lands: every
query is reported as unsupported, never guessed.)"""

from __future__ import annotations

from dd2prom.convert.queries.types import TranslateContext, Translation
from dd2prom.model import Status


def translate(query: str, *, monitor: bool = False, ctx: TranslateContext | None = None) -> Translation:
    return Translation(query=query, promql=None, status=Status.UNSUPPORTED,
                       notes=["The query transpiler is not built yet."])


def translate_formula(formula: str, queries: dict[str, str], *, ctx: TranslateContext | None = None) -> Translation:
    return Translation(query=formula, promql=None, status=Status.UNSUPPORTED,
                       notes=["The query transpiler is not built yet."])
