"""AST → PromQL, one method per node type (Datadog functions in
:mod:`~dd2prom.convert.queries.functions`), following Datadog's documented
order of operations: time aggregation into buckets, space aggregation, then
functions (``diff`` between the two, ``default_zero`` after both).

Every difference from Datadog's meaning is a sentence in ``notes`` and lowers
the status; a construct PromQL cannot express raises :class:`Unsupported`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from itertools import product

from dd2prom.convert.queries import ast
from dd2prom.convert.queries import functions
from dd2prom.convert.queries.functions import arg_number, arg_word
from dd2prom.convert.queries.lexer import QuerySyntaxError
from dd2prom.convert.queries.mapping import (
    MetricInfo, Mappings, join_for_tag, label_for_tag, prom_metric_for, tag_needs_join,
)
from dd2prom.convert.queries.parser import percentile_of
from dd2prom.convert.queries.promql_text import (
    MIN_WINDOW_SECONDS, OVER_TIME, PORT_SUFFIX, REGEX_META, Unsupported, by_clause, escape_value, fmt_duration,
    fmt_number, matchers_text, over_time, paren, selector, wildcard_pattern,
)
from dd2prom.convert.queries.types import TranslateContext
from dd2prom.convert.queries.values import Env, Out
from dd2prom.model import Status


_MAX_DNF = 64
# fill(method, limit): Datadog fills gaps of up to 300 s by default, 600 s at most
FILL_LIMIT_SECONDS, FILL_MAX_SECONDS = 300, 600


@dataclass
class Generator:
    ctx: TranslateContext
    mappings: Mappings
    notes: list[str] = field(default_factory=list)
    status: Status = Status.EXACT
    metrics: list[str] = field(default_factory=list)
    prom_metrics: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    names: dict[str, ast.Expr] = field(default_factory=dict)   # formula query names
    resolved: dict[int, MetricInfo] = field(default_factory=dict)  # id(MetricQuery) → mapping used

    # ------------------------------------------------------------------ bookkeeping
    def note(self, sentence: str, status: Status = Status.APPROXIMATE) -> None:
        if sentence not in self.notes:
            self.notes.append(sentence)
        self.status = Status.worst(self.status, status)

    def _use(self, items: list[str], *values: str) -> None:
        for v in values:
            if v not in items:
                items.append(v)

    # ------------------------------------------------------------------ dispatch
    def gen(self, node: ast.Expr, env: Env) -> Out:
        if isinstance(node, ast.MetricQuery):
            return self.metric_query(node, env)
        if isinstance(node, ast.Number):
            return Out(fmt_number(node.value), None)
        if isinstance(node, ast.BinOp):
            return self.binop(node.op, self.gen(node.left, env), self.gen(node.right, env))
        if isinstance(node, ast.Neg):
            inner = self.gen(node.operand, env)
            return replace(inner, text=f"-{inner.paren()}", atomic=False)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.Name):
            if node.name in self.names:
                return self.gen(self.names[node.name], env)
            raise QuerySyntaxError(f"'{node.name}' is neither a metric query nor a named query", node.pos)
        if isinstance(node, ast.ServiceCheck):
            raise Unsupported(f"Service check query on '{node.check}': service checks are converted "
                              "from their checks, not as PromQL.")
        raise Unsupported(f"Cannot translate {type(node).__name__}.")

    # ------------------------------------------------------------------ arithmetic
    def binop(self, op: str, left: Out, right: Out) -> Out:
        counter = left.counter or right.counter
        if left.labels is None and right.labels is None:
            return Out(f"{left.text} {op} {right.paren()}", None, atomic=False)
        if left.labels is None or right.labels is None or set(left.labels) == set(right.labels):
            side = left if right.labels is None else right
            metric = left.metric if right.labels is None else (right.metric if left.labels is None else None)
            return Out(f"{left.paren()} {op} {right.paren()}", side.labels, atomic=False, counter=counter,
                       metric=metric, tags=side.tags)
        if left.tags and right.tags and set(left.tags) == set(right.tags):
            # the same Datadog tags under different labels (host: instance vs node)
            renamed = right.text
            rename = dict(zip(right.tags, right.labels, strict=True))
            for tag, label in zip(left.tags, left.labels, strict=True):
                if rename.get(tag, label) != label:
                    renamed = f'label_replace({renamed}, "{label}", "$1", "{rename[tag]}", "(.*)")'
                    self.note(f"Tag {tag} is the label {label} on one side and {rename[tag]} on the other; "
                              f"the match renames {rename[tag]} to {label}.")
            text = f"{left.paren()} {op} on ({', '.join(left.labels)}) {renamed}"
            return Out(text, left.labels, atomic=False, counter=counter, tags=left.tags)
        lset, rset = set(left.labels), set(right.labels)
        if rset <= lset:
            on, side, labels = right.labels, "group_left", left.labels
        elif lset <= rset:
            on, side, labels = left.labels, "group_right", right.labels
        else:
            on = tuple(sorted(lset & rset))
            side, labels = "group_left", left.labels
            self.note(f"The two sides are grouped by different tags ({', '.join(left.labels)} vs "
                      f"{', '.join(right.labels)}); they are matched on the common ones only.")
        rtext = right.paren()
        text = f"{left.paren()} {op} on ({', '.join(on)}) {side}{'()' if rtext.startswith('(') else ''} {rtext}"
        return Out(text, labels, atomic=False, counter=counter,
                   tags=left.tags if labels == left.labels else right.tags)

    # ------------------------------------------------------------------ metric queries
    def metric_query(self, q: ast.MetricQuery, env: Env) -> Out:
        info = prom_metric_for(self.mappings, q.metric, self.ctx.metric_metadata.get(q.metric),
                               self.ctx.metric_metadata)
        mods = {m.name: m for m in q.modifiers}
        self._use(self.metrics, q.metric)
        self._use(self.prom_metrics, *info.prom_metrics)
        if not info.mapped:
            info = self._guess_type(q, info, mods)
        self.resolved[id(q)] = info
        groups = tuple(dict.fromkeys(label_for_tag(self.mappings, t, q.metric) for t in q.group_by)) \
            if q.group_by else ()
        keys = self._tag_keys(q)
        self._check_carried(q, keys)
        self._use(self.labels, *groups)
        if "weighted" in mods:
            self.note(".weighted() has no PromQL counterpart; Prometheus averages the series as they are.")
        conjuncts = self.scope_matchers(q, env)
        pct = percentile_of(q.aggregator or "")
        if info.prom_type in ("histogram", "summary") or info.dd_type == "distribution":
            text = self.distribution(q, info, conjuncts, groups, env, pct)
            return Out(text, groups, atomic=True, metric=q, tags=tuple(dict.fromkeys(q.group_by)))
        mode = self._mode(q, info, mods, env)
        fn, win = self._time_fn(q, mods, env, mode)
        if "fill" in mods:
            fn, win = self._fill(mods["fill"], fn, win, mode)
        joins = self._joins(q, keys)
        series_groups = tuple(g for g in groups if g not in joins)

        def one(matchers: list[tuple[str, str, str]], e: Env) -> str:
            own = [m for m in matchers if m[0] not in joins] if joins else matchers
            return self.join(self.series(info, own, mode, fn, win, e, series_groups), matchers, joins, e)

        parts = [one(m, env) for m in conjuncts]
        if env.diff_seconds:
            before = replace(env, offset=env.offset + env.diff_seconds, diff_seconds=0)
            prev = [one(m, before) for m in conjuncts]
            parts = [f"{paren(a)} - {paren(b)}" for a, b in zip(parts, prev, strict=True)]
            if env.diff_monotonic:
                parts = [f"clamp_min({p}, 0)" for p in parts]
        inner = parts[0] if len(parts) == 1 else " or ".join(f"({p})" if " " in p else p for p in parts)
        agg = q.aggregator or "avg"
        if pct is not None:
            self.note(f"{q.aggregator} on a metric that is not a distribution: the quantile is taken "
                      "across series (Prometheus quantile()), not over the raw values.")
            text = f"quantile{by_clause(groups)}({fmt_number(pct)}, {inner})"
        else:
            text = f"{agg}{by_clause(groups)}({inner})"
        out = Out(text, groups, counter=mode != "gauge", metric=q, tags=_tags_of(q, groups))
        if "fill" in mods and arg_word(mods["fill"].args, 0) == "zero":
            limit = min(arg_number(mods["fill"].args, 1) or FILL_LIMIT_SECONDS, FILL_MAX_SECONDS)
            out = self.zero_fill(out, q, info, conjuncts, env, groups, limit=fmt_duration(limit))
        return out

    def _tag_keys(self, q: ast.MetricQuery) -> list[str]:
        """The tag keys ``q`` groups or filters by, each once (a lone ``$var`` is the tag it filters)."""
        tvars = self.ctx.template_variable_tags
        scoped = _keys_of_scope(q.scope) if q.scope is not None else ()
        return list(dict.fromkeys(
            q.group_by + [tvars.get(k[1:], k[1:]) if k.startswith("$") else k for k in scoped]))

    def _joins(self, q: ast.MetricQuery, keys: list[str]) -> dict[str, dict[str, str]]:
        """Label → join spec for the tags of ``q`` (its ``keys``) its series only get through a join."""
        out: dict[str, dict[str, str]] = {}
        for key in keys:
            spec = join_for_tag(self.mappings, key, q.metric)
            if spec is not None:
                out[spec["label"]] = spec
                self._use(self.prom_metrics, *sorted(set(re.findall(r"(kube_\w+)\{", spec["promql"]))))
        return out

    def join(self, text: str, matchers: list[tuple[str, str, str]], joins: dict[str, dict[str, str]], env: Env) -> str:
        """``text`` joined on (namespace, pod) with each owner join, the tag's
        filters applied to the owner metric."""
        if not joins:
            return text
        off = f" offset {fmt_duration(env.offset)}" if env.offset else ""

        def owners(extra: str, spec: dict[str, str]) -> str:
            expr = spec["promql"].replace("{@}", "{" + extra.lstrip(",") + "}" if extra else "").replace("@", extra)
            return re.sub(r"(\w+\{[^{}]*\})", lambda m: m.group(1) + off, expr) if off else expr

        for label, spec in joins.items():
            mine = [(op, v) for lab, op, v in matchers if lab == label]
            extra = "".join(f',{spec.get("filter_label", label)}{op}"{escape_value(v)}"' for op, v in mine)
            if spec.get("note"):
                self.note(f"The tag {label} comes from a join with kube-state-metrics: {spec['note']}.")
            joined = f"{paren(text)} * on (namespace, pod) group_left ({label}) {owners(extra, spec)}"
            if any(op in ("=", "=~") for op, _ in mine):
                text = joined
            else:
                # series with no such owner stay, without the label (Datadog's N/A group)
                bare = f'label_replace({text}, "{label}", "", "", "")'
                text = f"({joined}) or ({bare} unless on (namespace, pod) {owners('', spec)})"
        return text

    def _check_carried(self, q: ast.MetricQuery, keys: list[str]) -> None:
        for key in keys:
            if tag_needs_join(self.mappings, key, q.metric):
                label = label_for_tag(self.mappings, key, q.metric)
                self.note(f"Tag {key} is not a label of the series behind {q.metric}; the label {label} must be "
                          "added by a join with kube-state-metrics or a relabeling rule.")

    def _guess_type(self, q: ast.MetricQuery, info: MetricInfo, mods: dict) -> MetricInfo:
        name = f"{q.metric} is not in the mapping tables; read as Prometheus metric '{info.prom}'"
        if info.dd_type == "gauge" and not self.ctx.metric_metadata.get(q.metric) and (
                "as_count" in mods or "as_rate" in mods):
            from dd2prom.convert.queries.mapping import derived_name
            info = replace(info, prom=derived_name(q.metric, "counter", self.ctx.metric_metadata),
                           prom_type="counter", dd_type="count")
            name = (f"{q.metric} is not in the mapping tables and has no metadata; .as_count()/.as_rate() "
                    f"mark it as a count, read as Prometheus counter '{info.prom}'")
        elif percentile_of(q.aggregator or "") is not None and info.dd_type == "gauge":
            from dd2prom.convert.queries.mapping import derived_name
            info = replace(info, prom=derived_name(q.metric, "histogram"), prom_type="histogram",
                           dd_type="distribution")
            name = (f"{q.metric} is not in the mapping tables; {q.aggregator} marks it as a distribution, "
                    f"read as Prometheus histogram '{info.prom}'")
        self._use(self.unmapped, q.metric)
        self._use(self.prom_metrics, info.prom or "")
        if info.prom in self.prom_metrics and "" in self.prom_metrics:
            self.prom_metrics.remove("")
        self.note(name + f" ({info.prom_type}).")
        return info

    def _mode(self, q: ast.MetricQuery, info: MetricInfo, mods: dict, env: Env) -> str:
        """gauge | rate | count: how a series is read."""
        if info.template is not None:
            return "gauge" if "as_count" not in mods else "count"
        if info.prom_type != "counter" or info.dd_type == "gauge":
            # a Prometheus counter Datadog stores as a gauge holds the raw cumulative value
            return "gauge"
        if env.counter_mode:
            return env.counter_mode
        if "as_rate" in mods:
            return "rate"
        if "as_count" in mods:
            return "count"
        return "count" if info.dd_type == "count" else "rate"

    def _time_fn(self, q: ast.MetricQuery, mods: dict, env: Env, mode: str) -> tuple[str | None, str | None]:
        if "rollup" in mods:
            args = mods["rollup"].args
            method = arg_word(args, 0) or "avg"
            if method not in OVER_TIME:
                raise Unsupported(f".rollup({method}) is not a Datadog rollup method PromQL can express.")
            seconds = arg_number(args, 1)
            if seconds is None and len(args) == 1 and isinstance(args[0], ast.Number):
                seconds, method = args[0].value, "avg"
            if seconds is not None and 0 < seconds < MIN_WINDOW_SECONDS:
                self.note(f".rollup({method}, {fmt_number(seconds)}) is widened to {MIN_WINDOW_SECONDS}s: shorter "
                          "windows hold too few samples at common scrape intervals.")
                seconds = MIN_WINDOW_SECONDS
            win = fmt_duration(seconds) if seconds else (
                "$__interval" if env.target == "dashboard" else env.count_window)
            return method, win
        return env.time_fn, env.time_window

    def _fill(self, mod: ast.Modifier, fn: str | None, win: str | None, mode: str) -> tuple[str | None, str | None]:
        how = arg_word(mod.args, 0) or "null"
        limit = arg_number(mod.args, 1)
        if how in ("null", "zero"):
            return fn, win
        if how in ("last", "linear") and mode == "gauge" and fn is None:
            if how == "linear":
                self.note("fill(linear) interpolates between points; Prometheus holds the last value instead.")
            return "last", fmt_duration(min(limit or FILL_LIMIT_SECONDS, FILL_MAX_SECONDS))
        if how in ("last", "linear"):
            self.note(f"fill({how}) is not applied: Prometheus already holds a value for its lookback of 5 minutes.")
            return fn, win
        raise Unsupported(f"fill({how}) is not a fill mode PromQL can express.")

    # -- one series (one conjunct of the scope)
    def series(self, info: MetricInfo, matchers: list[tuple[str, str, str]], mode: str,
               fn: str | None, win: str | None, env: Env, groups: tuple[str, ...]) -> str:
        off = f" offset {fmt_duration(env.offset)}" if env.offset else ""
        mtext = matchers_text(matchers)
        if info.template is not None:
            return self.render_template(info, mtext, mode, fn, win, env, groups, off)
        sel = f"{info.prom}{{{mtext}}}" if mtext else info.prom
        scale = f" * {fmt_number(info.scale)}" if info.scale else ""
        if mode == "gauge":
            text = over_time(fn, f"{sel}[{win}]{off}") if fn else f"{sel}{off}"
            if fn in ("sum", "count"):
                self.note(f"The {fn} over time of a gauge counts Prometheus' scraped samples, so it scales with "
                          "the scrape interval (Datadog: with the points submitted, every 15 s from the Agent).")
        elif mode == "rate":
            if fn in (None, "avg", "sum"):
                # as_rate() divides the rolled-up sum by the interval: a rate either way
                text = f"rate({sel}[{win or env.rate_window}]{off})"
            else:
                text = over_time(fn, f"rate({sel}[{env.rate_window}]{off})[{win}:{env.step}]")
                self.note(f"{fn} over time of a rate is taken at a {env.step} resolution.")
        else:  # count
            if fn in (None, "sum"):
                text = f"increase({sel}[{win or env.count_window}]{off})"
            else:
                bucket = env.step
                text = over_time(fn, f"increase({sel}[{bucket}]{off})[{win}:{bucket}]")
                self.note(f"{fn} over time of counts per interval assumes {bucket} intervals "
                          "(Datadog's rollup interval may differ).")
        return text + scale

    def render_template(self, info: MetricInfo, mtext: str, mode: str, fn: str | None, win: str | None,
                        env: Env, groups: tuple[str, ...], off: str) -> str:
        tpl = info.template or ""
        has_rate = "[$W]" in tpl
        window = env.rate_window
        over = None
        if fn is not None and fn != "last":
            if has_rate and fn == "avg" and win:
                window = win
            else:
                over = f"{OVER_TIME[fn]}"
        if "increase(" in tpl:
            window = win or env.count_window
        elif mode == "count":
            if "rate(" not in tpl:
                raise Unsupported(f".as_count() on {info.datadog}, which maps to a gauge expression.")
            tpl = tpl.replace("rate(", "increase(")
            window = win or env.count_window

        # each selector {<its own matchers>,@} gets the query's matchers, its [$W] the window
        pieces = _template_pieces(tpl)
        out = [pieces[0]]
        for i in range(1, len(pieces), 3):
            existing, ranged, literal = pieces[i:i + 3]
            body = existing + mtext if mtext else existing.rstrip(",")
            out += ((f"{{{body}}}" if body else "") + (f"[{window}]" if ranged else "") + off, literal)
        text = "".join(out)

        def by(m: re.Match) -> str:
            labels = [x.strip() for x in m.group(2).split(",") if x.strip()]
            labels += [g for g in groups if g not in labels]
            return f"{m.group(1)} ({', '.join(labels)})"

        if "@B)" in text:
            text = _GROUPING_MARK.sub(by, text)
        if over:
            text = over_time(fn, f"({text})[{win}:{env.step}]")
        return text

    # -- distributions / histograms
    def distribution(self, q: ast.MetricQuery, info: MetricInfo, conjuncts: list, groups: tuple[str, ...],
                     env: Env, pct: float | None) -> str:
        agg = q.aggregator or "avg"
        if info.prom_type == "summary" and (pct is not None or agg in ("max", "min")):
            raise Unsupported(f"{q.metric} is a Prometheus summary: its quantiles cannot be aggregated across series.")
        off = f" offset {fmt_duration(env.offset)}" if env.offset else ""
        win = env.time_window if env.time_fn in ("avg", "percentile") and env.time_window else env.rate_window
        cw = env.time_window if env.time_fn == "sum" and env.time_window else env.count_window
        mods = {m.name: m for m in q.modifiers}
        if "rollup" in mods:
            method, win = self._time_fn(q, mods, env, "rate")
            cw = win
            if method not in ("avg", "sum", "count"):
                self.note(f".rollup({method}) on a distribution: the values of each {win} interval are "
                          "merged instead.")
        for ignored in ("fill", "weighted"):
            if ignored in mods:
                self.note(f".{ignored}() on a distribution is not applied.")
        fam = info.prom or ""

        def sels(suffix: str, fn: str, w: str) -> str:
            parts = []
            for m in conjuncts:
                parts.append(f"{fn}({selector(f'{fam}_{suffix}', m)}[{w}]{off})")
            return " or ".join(parts)

        if pct is not None or agg in ("max", "min"):
            p = pct if pct is not None else (1.0 if agg == "max" else 0.0)
            self.note(f"{q.aggregator} of {q.metric} is estimated from histogram buckets; Datadog's "
                      "distributions are exact to about 1%.")
            buckets = sels("bucket", "rate", win)
            return f"histogram_quantile({fmt_number(p)}, sum{by_clause(('le',) + groups)}({buckets}))"
        if agg == "avg":
            return (f"sum{by_clause(groups)}({sels('sum', 'rate', win)}) / "
                    f"sum{by_clause(groups)}({sels('count', 'rate', win)})")
        suffix = "count" if agg == "count" else "sum"
        return f"sum{by_clause(groups)}({sels(suffix, 'increase', cw)})"

    def zero_fill(self, out: Out, q: ast.MetricQuery | None, info: MetricInfo | None, conjuncts: list, env: Env,
                  groups: tuple[str, ...], limit: str | None = None) -> Out:
        """``out`` with 0 for the series (groups) that reported recently but have
        no value now. ``limit``: fill(zero, limit), gaps of at most that long
        (Datadog's default 300 s). Otherwise default_zero(): on dashboards an
        empty graph shows 0, elsewhere the evaluation window must hold a point
        (Datadog: default_zero() has no effect on an empty window)."""
        if limit is None and env.target == "dashboard" and not groups:
            return Out(f"{out.paren()} or vector(0)", groups, atomic=False, counter=out.counter, metric=q)
        name = info and (info.prom or (info.prom_metrics[0] if info.prom_metrics else None))
        if not name:
            raise Unsupported("Zero-filling a template expression is not supported.")
        lookback = limit or ("$__range" if env.target == "dashboard" else env.range_window)
        off = f" offset {fmt_duration(env.offset)}" if env.offset else ""   # timeshift, evaluation_delay
        parts = []
        for m in conjuncts:
            parts.append(f"last_over_time({selector(name, m)}[{lookback}]{off})")
        presence = f"0 * group{by_clause(groups)}({' or '.join(parts)})"
        return Out(f"{out.paren()} or {presence}", groups, atomic=False, counter=out.counter, metric=q)

    # ------------------------------------------------------------------ scopes
    def scope_matchers(self, q: ast.MetricQuery, env: Env) -> list[list[tuple[str, str, str]]]:
        conj = self._dnf(q.scope, False, q.metric, env) if q.scope is not None else [[]]
        conj = _merge_or(conj)
        if env.extra_matchers:
            conj = [c + list(env.extra_matchers) for c in conj]
        for c in conj:
            self._use(self.labels, *(label for label, _, _ in c))
        return conj

    def _dnf(self, s: ast.Scope, neg: bool, metric: str, env: Env) -> list[list[tuple[str, str, str]]]:
        if isinstance(s, ast.Tag):      # (most nodes: tested first)
            return self._tag(s, neg, metric, env)
        if isinstance(s, ast.ScopeNot):
            return self._dnf(s.item, not neg, metric, env)
        if isinstance(s, (ast.ScopeAnd, ast.ScopeOr)):
            subs = [self._dnf(i, neg, metric, env) for i in s.items]
            if isinstance(s, ast.ScopeAnd) != neg:          # AND, or NOT(OR)
                out = [sum(combo, []) for combo in product(*subs)]
            else:
                out = [c for sub in subs for c in sub]
            if len(out) > _MAX_DNF:
                raise Unsupported("The scope has too many OR alternatives to express as Prometheus selectors.")
            return out
        if isinstance(s, ast.TagIn):
            label = label_for_tag(self.mappings, s.key, metric)
            port = PORT_SUFFIX if label == "instance" and s.key == "host" else ""
            pattern = "|".join(wildcard_pattern(v) + port for v in s.values) or "^$"
            return self._absent_ok(s.key, [[(label, "!~" if neg else "=~", pattern)]])
        return self._tag(s, neg, metric, env)

    def _tag(self, t: ast.Tag, neg: bool, metric: str, env: Env) -> list[list[tuple[str, str, str]]]:
        if t.key == "*":
            if neg:
                raise QuerySyntaxError("'NOT *' excludes every series", t.pos)
            return [[]]
        if t.var is not None:
            key = t.key or self.ctx.template_variable_tags.get(t.var, t.var)
            label = label_for_tag(self.mappings, key, metric)
            if env.target != "dashboard":
                self.note(f"Template variable ${t.var} has no value outside a dashboard; its filter on "
                          f"{label} was dropped.")
                return [[]]
            # Grafana variable names are word characters only
            var = self.ctx.template_variables.get(t.var) or re.sub(r"\W", "_", t.var)
            port = PORT_SUFFIX if label == "instance" and key == "host" else ""
            # no relaxing for variables: their values come from the labels present (or none at all)
            return [[(label, "!~" if neg else "=~", f"(${var}){port}" if port else f"${var}")]]
        return self._absent_ok(t.key or "", self._value_tag(t, neg, metric))

    def _value_tag(self, t: ast.Tag, neg: bool, metric: str) -> list[list[tuple[str, str, str]]]:
        label = label_for_tag(self.mappings, t.key or "", metric)
        if t.value is None:     # bare tag
            self.note(f"Bare tag '{t.key}' is read as the label {label} being present.")
            return [[(label, "=" if neg else "!=", "")]]
        value = t.value
        port = label == "instance" and t.key == "host"
        if "$" in value:        # a template variable inside the value: sync.table.$table.value
            pattern = self._embedded_variables(value, label) + (PORT_SUFFIX if port else "")
            return [[(label, "!~" if neg else "=~", pattern)]]
        if value == "*":
            return [[(label, "=" if neg else "=~", "" if neg else ".+")]]
        if "*" in value or port:
            pattern = wildcard_pattern(value) + (PORT_SUFFIX if port else "")
            return [[(label, "!~" if neg else "=~", pattern)]]
        return [[(label, "!=" if neg else "=", value)]]

    def _embedded_variables(self, value: str, label: str) -> str:
        """A tag value holding template variables → an RE2 pattern: the literal
        parts escaped (``*`` a wildcard), each variable the Grafana variable on
        dashboards (Grafana regex-escapes multi-value variables and gives ``.*``
        for All), any text elsewhere, with a note."""
        known = sorted({*self.ctx.template_variables, *self.ctx.template_variable_tags}, key=len, reverse=True)
        parts, i = [], 0
        while (j := value.find("$", i)) >= 0:
            parts.append(wildcard_pattern(value[i:j]))
            name = next((k for k in known if value.startswith(k, j + 1)), None)
            if name is None:    # Datadog variable names may hold dots: take the longest dotted name
                m = re.match(r"[\w\-]+(?:\.[\w\-]+)*", value[j + 1:])
                name = m.group(0) if m else ""
                if name.endswith(".value"):
                    name = name[: -len(".value")]
            end = j + 1 + len(name)
            if value.startswith(".value", end):
                end += len(".value")
            if not name:
                raise Unsupported(f"The tag value '{value}' holds a '$' that is not a template variable.")
            if self.ctx.target == "dashboard":
                parts.append("${" + (self.ctx.template_variables.get(name) or re.sub(r"\W", "_", name)) + "}")
            else:
                parts.append(".*")
                self.note(f"Template variable ${name} has no value outside a dashboard; in the filter on {label} "
                          "it matches any text.")
            i = end
        parts.append(wildcard_pattern(value[i:]))
        return "".join(parts)

    def _absent_ok(self, key: str, conj: list[list[tuple[str, str, str]]]) -> list[list[tuple[str, str, str]]]:
        """A positive filter on a tag whose label a Prometheus server often lacks
        (one cluster per server) also accepts series without the label."""
        if key not in self.mappings.absent_ok:
            return conj
        out = []
        for c in conj:
            relaxed = []
            for label, op, value in c:
                if op in ("=", "=~") and value:
                    pattern = value if op == "=~" else REGEX_META.sub(r"\\\1", value)
                    self.note(f"The filter on {key} also matches series without a {label} label: a Prometheus "
                              f"server usually serves one {label} (give each server an external label {label} "
                              "when one server holds several).")
                    label, op, value = label, "=~", f"{pattern}|"
                elif op in ("!=", "!~") and value:
                    self.note(f"The exclusion on {key} keeps series without a {label} label: on a Prometheus server "
                              f"that serves the excluded {label} without that label, nothing is excluded.")
                relaxed.append((label, op, value))
            out.append(relaxed)
        return out

    def call(self, node: ast.Call, env: Env) -> Out:
        return functions.call(self, node, env)


_SELECTOR_MARK = re.compile(r"\{([^{}]*)@\}(\[\$W\])?")
_GROUPING_MARK = re.compile(r"\b(by|on) \(([^()]*)@B\)")


@functools.lru_cache(maxsize=4096)
def _template_pieces(template: str) -> list[str | None]:
    """A mapping template split at its selectors: text, then per selector its own
    matchers, its ``[$W]`` (or None) and the text after it. (A template serves
    every query of its metric: split once.)"""
    return _SELECTOR_MARK.split(template)


_SCOPE_KEYS: dict[int, tuple[ast.Scope, list[str]]] = {}


def _keys_of_scope(scope: ast.Scope) -> list[str]:
    """:func:`_scope_keys` of ``scope`` (not to be changed), remembered by the node's
    identity: parse_scope hands the queries of one scope text the same frozen node
    (kept here, so its id is not reused while remembered)."""
    hit = _SCOPE_KEYS.get(id(scope))
    if hit is not None and hit[0] is scope:
        return hit[1]
    keys = _scope_keys(scope, [])
    if len(_SCOPE_KEYS) >= 4096:
        _SCOPE_KEYS.clear()
    _SCOPE_KEYS[id(scope)] = (scope, keys)
    return keys


def _scope_keys(s: ast.Scope, out: list[str]) -> list[str]:
    """``out`` with the tag keys ``s`` filters on appended, in order (``$var`` for a lone variable)."""
    if isinstance(s, ast.Tag):
        if s.key not in (None, "*") and (s.value is not None or s.var is not None):
            out.append(s.key)
        elif s.key is None and s.var is not None:
            out.append("$" + s.var)
    elif isinstance(s, (ast.ScopeAnd, ast.ScopeOr)):
        for item in s.items:
            _scope_keys(item, out)
    elif isinstance(s, ast.ScopeNot):
        _scope_keys(s.item, out)
    elif isinstance(s, ast.TagIn):
        out.append(s.key)
    return out


def _tags_of(q: ast.MetricQuery, groups: tuple[str, ...]) -> tuple[str, ...] | None:
    tags = tuple(dict.fromkeys(q.group_by))
    return tags if len(tags) == len(groups) else None


def _merge_or(conj: list[list[tuple[str, str, str]]]) -> list[list[tuple[str, str, str]]]:
    """``a:1 OR a:2`` → one regex matcher ``a=~"1|2"``."""
    if len(conj) > 1 and all(len(c) == 1 and c[0][1] in ("=", "=~") for c in conj):
        labels = {c[0][0] for c in conj}
        if len(labels) == 1:
            parts = [c[0][2] if c[0][1] == "=~" else REGEX_META.sub(r"\\\1", c[0][2]) for c in conj]
            return [[(labels.pop(), "=~", "|".join(dict.fromkeys(parts)))]]
    return conj
