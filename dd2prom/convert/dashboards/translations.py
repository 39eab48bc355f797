"""The run's dashboard translations, each query translated once.

Dashboards repeat queries: the same graph on many dashboards, the same query
in a widget's formula and on its own, a query translated again to reduce it
(see ``RequestTranslator._reduce_each``). The transpiler is a pure function of
the query and the :class:`TranslateContext` (nothing else is read: the notes,
status and template-variable matchers of a translation come from those two),
so a translation is looked up by both. The context is compared by every field:
by value where the value is hashable or a dict of strings (template
variables, windows, target), by identity otherwise (the run's metric metadata
and mapping tables, which are loaded once and never changed); a context is
not changed once made (split groups make a new one), so its key is computed
once. The cached :class:`Translation` objects are shared: callers only read them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Hashable

from dd2prom.convert.queries import translate, translate_formula
from dd2prom.convert.queries.types import TranslateContext, Translation

SHARED_KEY = "dashboard_translations"   # ctx.shared key: the run's TranslationCache
MAX_ENTRIES = 20_000   # a few KB each: tens of MB at most; cleared (not evicted one by one) when full


class TranslationCache:
    """:func:`translate` / :func:`translate_formula` with their results kept."""

    def __init__(self) -> None:
        self._results: dict[Hashable, Translation] = {}
        # the objects compared by identity (the run's metadata and mapping tables), so their
        # ids are not reused while keys hold them; never cleared, for that reason
        self._pinned: dict[int, Any] = {}
        # id(context) → (context, its key): a dashboard's context serves all its queries
        self._contexts: dict[int, tuple[TranslateContext, tuple]] = {}

    def translate(self, query: str, ctx: TranslateContext) -> Translation:
        return self._get(("query", query, self._context_key(ctx)), lambda: translate(query, ctx=ctx))

    def translate_formula(self, formula: str, queries: dict[str, str], ctx: TranslateContext) -> Translation:
        return self._get(("formula", formula, tuple(queries.items()), self._context_key(ctx)),
                         lambda: translate_formula(formula, queries, ctx=ctx))

    def _get(self, key: Hashable, compute: Callable[[], Translation]) -> Translation:
        hit = self._results.get(key)
        if hit is None:
            if len(self._results) >= MAX_ENTRIES:
                self._results.clear()
                self._contexts.clear()
            hit = self._results[key] = compute()
        return hit

    def _context_key(self, ctx: TranslateContext) -> tuple:
        entry = self._contexts.get(id(ctx))
        if entry is None:
            key = tuple(self._frozen(getattr(ctx, f.name)) for f in dataclasses.fields(ctx))
            entry = self._contexts[id(ctx)] = (ctx, key)
        return entry[1]

    def _frozen(self, value: Any) -> Hashable:
        if isinstance(value, dict):
            # template variables and their tags by value; stops at the first item of anything else
            if all(type(k) is str and type(v) is str for k, v in value.items()):
                return ("dict", tuple(value.items()))
        else:
            try:
                hash(value)
                return value
            except TypeError:
                pass
        self._pinned.setdefault(id(value), value)
        return ("id", id(value))
