"""AST → PromQL, one method per node type, following Datadog's documented
order of operations: time aggregation into buckets, space aggregation, then
functions (``diff`` between the two, ``default_zero`` after both).

Every difference from Datadog's meaning is a sentence in ``notes`` and lowers
the status; a construct PromQL cannot express raises :class:`Unsupported`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Callable

from dd2prom.convert.queries import ast
from dd2prom.convert.queries.lexer import QuerySyntaxError
from dd2prom.convert.queries.mapping import (
    MetricInfo, Mappings, join_for_tag, label_for_tag, prom_metric_for, tag_needs_join,
)
from dd2prom.convert.queries.parser import percentile_of
from dd2prom.convert.queries.types import TranslateContext
from dd2prom.model import Status

MONTH_SECONDS = 28 * 86400
MIN_WINDOW_SECONDS = 60
MAX_SECONDS = 5 * 365 * 86400
# Datadog's host is the node name; Prometheus' instance may carry the scrape port
_PORT = "(:[0-9]+)?"
_MAX_DNF = 64


class Unsupported(Exception):
    """A construct with no PromQL equivalent (the message is the note)."""


@dataclass(frozen=True)
class Env:
    """Evaluation settings passed down the tree."""

    target: str
    rate_window: str                 # window of rate() with no other window given
    count_window: str                # bucket of .as_count()/increase() with no other window
    range_window: str                # the whole evaluated range (top/bottom ranking)
    range_at_end: bool = False       # dashboards: rank over the range ending at the graph's end
    offset: int = 0                  # seconds, applied to every selector
    time_fn: str | None = None       # monitor time aggregation pushed into the series
    time_window: str | None = None
    counter_mode: str | None = None  # force "rate" (per_second...) on counters
    extra_matchers: tuple[tuple[str, str, str], ...] = ()
    step: str = "1m"                 # subquery resolution
    diff_seconds: int = 0            # diff() per series: value minus the value this long before
    diff_monotonic: bool = False


@dataclass
class Out:
    """Generated PromQL: ``labels`` None for a scalar, else the output labels."""

    text: str
    labels: tuple[str, ...] | None
    atomic: bool = True
    counter: bool = False           # reads a counter (for per_second and as_count arithmetic)
    metric: ast.MetricQuery | None = None
    tags: tuple[str, ...] | None = None   # the Datadog tags behind ``labels``, same order

    def paren(self) -> str:
        return self.text if self.atomic else f"({self.text})"


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
        groups = tuple(dict.fromkeys(label_for_tag(self.mappings, t, q.metric) for t in q.group_by))
        self._check_carried(q)
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
        joins = self._joins(q, groups, conjuncts)
        series_groups = tuple(g for g in groups if g not in joins)

        def one(matchers: list[tuple[str, str, str]], e: Env) -> str:
            own = [m for m in matchers if m[0] not in joins]
            return self.join(self.series(info, own, mode, fn, win, e, series_groups), matchers, joins, e)

        parts = [one(m, env) for m in conjuncts]
        if env.diff_seconds:
            before = replace(env, offset=env.offset + env.diff_seconds, diff_seconds=0)
            prev = [one(m, before) for m in conjuncts]
            parts = [f"{_p(a)} - {_p(b)}" for a, b in zip(parts, prev, strict=True)]
            if env.diff_monotonic:
                parts = [f"clamp_min({p}, 0)" for p in parts]
        inner = parts[0] if len(parts) == 1 else " or ".join(f"({p})" if " " in p else p for p in parts)
        agg = q.aggregator or "avg"
        if pct is not None:
            self.note(f"{q.aggregator} on a metric that is not a distribution: the quantile is taken "
                      "across series (Prometheus quantile()), not over the raw values.")
            text = f"quantile{_by(groups)}({fmt_number(pct)}, {inner})"
        else:
            text = f"{agg}{_by(groups)}({inner})"
        out = Out(text, groups, counter=mode != "gauge", metric=q, tags=_tags_of(q, groups, self.mappings))
        if "fill" in mods and _arg_word(mods["fill"].args, 0) == "zero":
            out = self.zero_fill(out, q, info, conjuncts, env, groups)
        return out

    def _joins(self, q: ast.MetricQuery, groups: tuple[str, ...], conjuncts: list) -> dict[str, dict[str, str]]:
        """Label → join spec for the tags of ``q`` its series only get through a join."""
        tvars = self.ctx.template_variable_tags
        keys = list(q.group_by) + [tvars.get(k[1:], k[1:]) if k.startswith("$") else k for k in _scope_keys(q.scope)]
        out: dict[str, dict[str, str]] = {}
        for key in dict.fromkeys(keys):
            spec = join_for_tag(self.mappings, key, q.metric)
            if spec is not None:
                out[spec["label"]] = spec
                self._use(self.prom_metrics, *sorted(set(re.findall(r"(kube_\w+)\{", spec["promql"]))))
        return out

    def join(self, text: str, matchers: list[tuple[str, str, str]], joins: dict[str, dict[str, str]], env: Env) -> str:
        """``text`` joined on (namespace, pod) with each owner join, the tag's
        filters applied to the owner metric."""
        off = f" offset {fmt_duration(env.offset)}" if env.offset else ""

        def owners(extra: str, spec: dict[str, str]) -> str:
            expr = spec["promql"].replace("@", extra)
            return re.sub(r"(\w+\{[^{}]*\})", lambda m: m.group(1) + off, expr) if off else expr

        for label, spec in joins.items():
            mine = [(op, v) for lab, op, v in matchers if lab == label]
            extra = "".join(f',{spec.get("filter_label", label)}{op}"{_escape(v)}"' for op, v in mine)
            joined = f"{_p(text)} * on (namespace, pod) group_left ({label}) {owners(extra, spec)}"
            if any(op in ("=", "=~") for op, _ in mine):
                text = joined
            else:
                # series with no such owner stay, without the label (Datadog's N/A group)
                text = f"({joined}) or ({_p(text)} unless on (namespace, pod) {owners('', spec)})"
        return text

    def _check_carried(self, q: ast.MetricQuery) -> None:
        tvars = self.ctx.template_variable_tags
        keys = list(q.group_by) + [tvars.get(k[1:], k[1:]) if k.startswith("$") else k for k in _scope_keys(q.scope)]
        for key in dict.fromkeys(keys):
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
            method = _arg_word(args, 0) or "avg"
            if method not in _OVER_TIME:
                raise Unsupported(f".rollup({method}) is not a Datadog rollup method PromQL can express.")
            seconds = _arg_number(args, 1)
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
        how = _arg_word(mod.args, 0) or "null"
        limit = _arg_number(mod.args, 1)
        if how in ("null", "zero"):
            return fn, win
        if how in ("last", "linear") and mode == "gauge" and fn is None:
            if how == "linear":
                self.note("fill(linear) interpolates between points; Prometheus holds the last value instead.")
            return "last", fmt_duration(limit) if limit else "5m"
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
                over = f"{_OVER_TIME[fn]}"
        if "increase(" in tpl:
            window = win or env.count_window
        elif mode == "count":
            if "rate(" not in tpl:
                raise Unsupported(f".as_count() on {info.datadog}, which maps to a gauge expression.")
            tpl = tpl.replace("rate(", "increase(")
            window = win or env.count_window

        def sel(m: re.Match) -> str:
            existing = m.group(1)
            body = existing + mtext if mtext else existing.rstrip(",")
            rng = f"[{window}]" if m.group(2) else ""
            return (f"{{{body}}}" if body else "") + rng + off

        text = re.sub(r"\{([^{}]*)@\}(\[\$W\])?", sel, tpl)
        extra = [g for g in groups]

        def by(m: re.Match) -> str:
            labels = [x.strip() for x in m.group(2).split(",") if x.strip()]
            labels += [g for g in extra if g not in labels]
            return f"{m.group(1)} ({', '.join(labels)})"

        text = re.sub(r"\b(by|on) \(([^()]*)@B\)", by, text)
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
        win = env.time_window if env.time_fn == "avg" and env.time_window else env.rate_window
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
            return f"histogram_quantile({fmt_number(p)}, sum{_by(('le',) + groups)}({sels('bucket', 'rate', win)}))"
        if agg == "avg":
            return (f"sum{_by(groups)}({sels('sum', 'rate', win)}) / "
                    f"sum{_by(groups)}({sels('count', 'rate', win)})")
        suffix = "count" if agg == "count" else "sum"
        return f"sum{_by(groups)}({sels(suffix, 'increase', cw)})"

    def zero_fill(self, out: Out, q: ast.MetricQuery, info: MetricInfo, conjuncts: list, env: Env,
                  groups: tuple[str, ...]) -> Out:
        if not groups:
            return Out(f"{out.paren()} or vector(0)", groups, atomic=False, counter=out.counter, metric=q)
        name = info.prom or (info.prom_metrics[0] if info.prom_metrics else None)
        if not name:
            raise Unsupported("Zero-filling a grouped template expression is not supported.")
        lookback = "$__range" if env.target == "dashboard" else "1d"
        parts = []
        for m in conjuncts:
            parts.append(f"last_over_time({selector(name, m)}[{lookback}])")
        if env.target != "dashboard":
            self.note("Zero-filled groups are the groups seen in the last day.")
        presence = f"0 * group{_by(groups)}({' or '.join(parts)})"
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
            port = _PORT if label == "instance" and s.key == "host" else ""
            pattern = "|".join(_wildcard(v) + port for v in s.values) or "^$"
            return [[(label, "!~" if neg else "=~", pattern)]]
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
            port = _PORT if label == "instance" and key == "host" else ""
            return [[(label, "!~" if neg else "=~", f"(${var}){port}" if port else f"${var}")]]
        label = label_for_tag(self.mappings, t.key or "", metric)
        if t.value is None:     # bare tag
            self.note(f"Bare tag '{t.key}' is read as the label {label} being present.")
            return [[(label, "=" if neg else "!=", "")]]
        value = t.value
        port = label == "instance" and t.key == "host"
        if value == "*":
            return [[(label, "=" if neg else "=~", "" if neg else ".+")]]
        if "*" in value or port:
            pattern = _wildcard(value) + (_PORT if port else "")
            return [[(label, "!~" if neg else "=~", pattern)]]
        return [[(label, "!=" if neg else "=", value)]]

    # ------------------------------------------------------------------ functions
    def call(self, node: ast.Call, env: Env) -> Out:
        name = node.name
        handler = _FUNCTIONS.get(name)
        if handler is None:
            m = _TOP_FAMILY.match(name)
            if m:
                return self.top(node, env, m.group(1), int(m.group(2)), m.group(3) or "mean")
            if name in _UNSUPPORTED:
                raise Unsupported(f"{name}() has no PromQL equivalent: {_UNSUPPORTED[name]}")
            raise Unsupported(f"Unknown function {name}().")
        return handler(self, node, env)

    def _arg(self, node: ast.Call, i: int, env: Env) -> Out:
        if len(node.args) <= i or isinstance(node.args[i], ast.String):
            raise Unsupported(f"{node.name}() needs a query as argument {i + 1}.")
        return self.gen(node.args[i], env)

    def timeshift(self, node: ast.Call, env: Env) -> Out:
        seconds = _SHIFTS.get(node.name)
        if seconds is None:
            shift = _arg_number(node.args, 1)
            if shift is None:
                raise Unsupported("timeshift() needs a shift in seconds.")
            if shift > 0:
                raise Unsupported("timeshift() into the future needs a negative offset, which Prometheus 2.42 "
                                  "does not enable by default.")
            fmt_duration(-shift)          # range check
            seconds = int(-shift)
        return self._arg(node, 0, replace(env, offset=env.offset + seconds))

    def per_unit(self, node: ast.Call, env: Env) -> Out:
        factor = {"per_second": 1, "per_minute": 60, "per_hour": 3600}[node.name]
        inner = self._arg(node, 0, replace(env, counter_mode="rate"))
        if not inner.counter:
            self.note(f"{node.name}() of a gauge: Datadog divides by the rollup interval; the value is "
                      "kept as a per-interval value.")
            return inner
        if factor == 1:
            return inner
        return Out(f"{inner.paren()} * {factor}", inner.labels, atomic=False, counter=True)

    def default_zero(self, node: ast.Call, env: Env) -> Out:
        inner = self._arg(node, 0, env)
        if not inner.labels:
            return Out(f"{inner.paren()} or vector(0)", inner.labels or (), atomic=False, counter=inner.counter)
        q = inner.metric
        if q is None:
            raise Unsupported("default_zero() on a grouped expression of several queries is not supported.")
        info = self.resolved[id(q)]
        return self.zero_fill(inner, q, info, self.scope_matchers(q, env), env, inner.labels)

    def top(self, node: ast.Call, env: Env, direction: str, n: int | None = None, ranker: str | None = None) -> Out:
        inner = self._arg(node, 0, env)
        args = node.args
        if n is None:
            count = _arg_number(args, 1) or 10
            if not 1 <= count <= 10000:
                raise Unsupported(f"{node.name}() with a limit of {count:g} series is out of range.")
            n = int(count)
            ranker = _arg_word(args, 2) or "mean"
            order = _arg_word(args, 3) or ("desc" if direction == "top" else "asc")
            direction = "top" if order == "desc" else "bottom"
        fn = _RANKERS.get(ranker or "mean")
        if fn is None:
            raise Unsupported(f"Ranking by '{ranker}' has no PromQL equivalent.")
        if ranker in ("norm", "l2norm", "area"):
            self.note(f"Ranking by '{ranker}' is approximated by the sum over the window.")
        k = "topk" if direction == "top" else "bottomk"
        at = " @ end()" if env.range_at_end else ""
        rank = f"{k}({n}, {fn}(({inner.text})[{env.range_window}:{env.step}]{at}))"
        return Out(f"{inner.paren()} and {rank}", inner.labels, atomic=False, counter=inner.counter)

    def top_call(self, node: ast.Call, env: Env) -> Out:
        return self.top(node, env, node.name)

    def cutoff(self, node: ast.Call, env: Env) -> Out:
        inner = self._arg(node, 0, env)
        limit = _arg_number(node.args, 1)
        if limit is None:
            raise Unsupported(f"{node.name}() needs a threshold.")
        op = ">=" if node.name == "cutoff_min" else "<="
        return Out(f"{inner.paren()} {op} {fmt_number(limit)}", inner.labels, atomic=False, counter=inner.counter)

    def count_series(self, node: ast.Call, env: Env) -> Out:
        inner = self._arg(node, 0, env)
        cond = f"{inner.paren()} != 0" if node.name == "count_nonzero" else inner.text
        return Out(f"count({cond})", (), atomic=True)

    def exclude_null(self, node: ast.Call, env: Env) -> Out:
        probe = self._arg(node, 0, env)
        extra = tuple((g, "!=", "") for g in probe.labels or ())
        return self._arg(node, 0, replace(env, extra_matchers=env.extra_matchers + extra))

    def over_window(self, node: ast.Call, env: Env, fn: str, window: str, step: str) -> Out:
        inner = self._arg(node, 0, env)
        return Out(f"{fn}(({inner.text})[{window}:{step}])", inner.labels, counter=inner.counter)

    def moving_rollup(self, node: ast.Call, env: Env) -> Out:
        seconds = _arg_number(node.args, 1)
        method = _arg_word(node.args, 2) or "avg"
        if seconds is None or method not in _OVER_TIME:
            raise Unsupported("moving_rollup() needs a window in seconds and avg/sum/min/max/count.")
        return self.over_window(node, env, _OVER_TIME[method], fmt_duration(seconds), env.step)

    def smoothing(self, node: ast.Call, env: Env) -> Out:
        kind, _, n = node.name.partition("_")
        points = int(n)
        what = "moving average" if kind == "ewma" else "moving median"
        self.note(f"{node.name}() over {points} points is approximated by a {what} over {points} minutes "
                  "(points assumed 1 minute apart).")
        fn = "avg_over_time" if kind == "ewma" else "quantile_over_time"
        inner = self._arg(node, 0, env)
        body = f"(({inner.text})[{fmt_duration(points * 60)}:1m])"
        text = f"quantile_over_time(0.5, {body[1:-1]})" if kind == "median" else f"{fn}{body}"
        return Out(text, inner.labels, counter=inner.counter)

    def diff(self, node: ast.Call, env: Env) -> Out:
        """Datadog runs diff() between time and space aggregation: per series,
        when the argument is a metric query."""
        step = duration_seconds(env.step)
        monotonic = node.name == "monotonic_diff"
        self.note(f"{node.name}() is the difference with the value {fmt_duration(step)} earlier "
                  "(Datadog: the previous point)" + (", negative steps dropped." if monotonic else "."))
        if node.args and isinstance(node.args[0], ast.MetricQuery):
            return self.gen(node.args[0], replace(env, diff_seconds=step, diff_monotonic=monotonic))
        inner = self._arg(node, 0, env)
        prev = self._arg(node, 0, replace(env, offset=env.offset + step))
        text = f"{inner.paren()} - {prev.paren()}"
        return Out(f"clamp_min({text}, 0)" if monotonic else text, inner.labels, atomic=monotonic)

    def derivative(self, node: ast.Call, env: Env) -> Out:
        inner = self._arg(node, 0, env)
        self.note(f"{node.name}() is the per-second slope over {env.rate_window} (deriv), not between two points.")
        return Out(f"deriv(({inner.text})[{env.rate_window}:{env.step}])", inner.labels)

    def forecast(self, node: ast.Call, env: Env, horizon: int | None = None) -> Out:
        """forecast(q, 'linear', dev[, history=, interval=]) → predict_linear over the
        history, ``horizon`` seconds ahead (the monitor's next_N window, else 1 hour)."""
        algo = _arg_word(node.args, 1) or "linear"
        if algo != "linear":
            raise Unsupported(f"forecast() with the '{algo}' algorithm has no PromQL equivalent.")
        inner = self._arg(node, 0, env)
        history = _period(_kwarg(node.args, "history")) or 7 * 86400
        step = _period(_kwarg(node.args, "interval"))
        step_text = fmt_duration(step) if step else env.step
        ahead = horizon or 3600
        self.note(f"forecast('linear') is predict_linear over the last {fmt_duration(history)}, "
                  f"{fmt_duration(ahead)} ahead; Datadog's deviation bounds are not reproduced.")
        return Out(f"predict_linear(({inner.text})[{fmt_duration(history)}:{step_text}], {ahead})", inner.labels)

    def rollup_fn(self, node: ast.Call, env: Env) -> Out:
        """Formula form ``rollup(query1, 'max', 60)``: the query's own rollup."""
        target = node.args[0] if node.args else None
        if isinstance(target, ast.Name) and target.name in self.names:
            target = self.names[target.name]
        if isinstance(target, ast.MetricQuery):
            mods = [m for m in target.modifiers if m.name != "rollup"]
            mods.append(ast.Modifier("rollup", list(node.args[1:]), node.pos))
            return self.metric_query(replace(target, modifiers=mods), env)
        method = _arg_word(node.args, 1) or "avg"
        seconds = _arg_number(node.args, 2)
        if method not in _OVER_TIME:
            raise Unsupported(f"rollup() with '{method}' has no PromQL equivalent.")
        win = fmt_duration(seconds) if seconds else env.count_window
        return self.over_window(node, env, _OVER_TIME[method], win, env.step)

    def calendar_shift(self, node: ast.Call, env: Env) -> Out:
        shift = _arg_word(node.args, 1) or ""
        m = re.fullmatch(r"-(\d+)([mhdw]|mo)", shift.strip())
        if not m:
            raise Unsupported(f"calendar_shift() by '{shift}' is not a shift into the past PromQL can express.")
        n, unit = int(m.group(1)), m.group(2)
        seconds = n * (MONTH_SECONDS if unit == "mo" else dict(_UNITS)[unit])
        if unit == "mo":
            self.note("calendar_shift() by months is read as 28 days per month.")
        return self._arg(node, 0, replace(env, offset=env.offset + seconds))


# ---------------------------------------------------------------------------- tables
_OVER_TIME = {"avg": "avg_over_time", "sum": "sum_over_time", "min": "min_over_time", "max": "max_over_time",
              "count": "count_over_time", "last": "last_over_time", "median": "quantile_over_time"}
_RANKERS = {"mean": "avg_over_time", "avg": "avg_over_time", "max": "max_over_time", "min": "min_over_time",
            "last": "last_over_time", "sum": "sum_over_time", "area": "sum_over_time", "norm": "sum_over_time",
            "l2norm": "sum_over_time"}
_SHIFTS = {"hour_before": 3600, "day_before": 86400, "week_before": 604800, "month_before": MONTH_SECONDS}
_TOP_FAMILY = re.compile(r"^(top|bottom)(\d+)_?(mean|min|max|last|area|l2norm|norm)?$")
_UNSUPPORTED = {
    "anomalies": "Datadog's anomaly models (basic/agile/robust) have no Prometheus counterpart.",
    "outliers": "outlier detection across groups (DBSCAN/MAD) has no Prometheus counterpart.",
    "robust_trend": "a Huber-loss regression is not available in PromQL.",
    "trend_line": "a least-squares line over the graph is not available in PromQL.",
    "piecewise_constant": "segmentation into constant pieces is not available in PromQL.",
    "autosmooth": "the automatic smoothing window is chosen by Datadog per graph.",
    "cumsum": "a cumulative sum from the start of the graph has no PromQL counterpart.",
    "integral": "a cumulative integral from the start of the graph has no PromQL counterpart.",
    "dt": "the time between points is not exposed by PromQL.",
    "reduce": "reducing a series to one value over the graph's time frame is done by the widget, not PromQL.",
}


def _simple(fn: str) -> Callable:
    def handler(self: Generator, node: ast.Call, env: Env) -> Out:
        inner = self._arg(node, 0, env)
        extra = "".join(f", {fmt_number(_arg_number(node.args, i) or 0)}" for i in range(1, len(node.args)))
        return Out(f"{fn}({inner.text}{extra})", inner.labels, counter=inner.counter)
    return handler


_FUNCTIONS: dict[str, Callable] = {
    "abs": _simple("abs"), "log2": _simple("log2"), "log10": _simple("log10"),
    "clamp_min": _simple("clamp_min"), "clamp_max": _simple("clamp_max"),
    "hour_before": Generator.timeshift, "day_before": Generator.timeshift, "week_before": Generator.timeshift,
    "month_before": Generator.timeshift, "timeshift": Generator.timeshift,
    "per_second": Generator.per_unit, "per_minute": Generator.per_unit, "per_hour": Generator.per_unit,
    "default_zero": Generator.default_zero,
    "top": Generator.top_call, "bottom": Generator.top_call,
    "cutoff_min": Generator.cutoff, "cutoff_max": Generator.cutoff,
    "count_nonzero": Generator.count_series, "count_not_null": Generator.count_series,
    "exclude_null": Generator.exclude_null,
    "moving_rollup": Generator.moving_rollup,
    "diff": Generator.diff, "derivative": Generator.derivative, "monotonic_diff": Generator.diff,
    "forecast": Generator.forecast,
    "rollup": Generator.rollup_fn, "calendar_shift": Generator.calendar_shift,
}
for _n in (3, 5, 7, 9):
    _FUNCTIONS[f"median_{_n}"] = Generator.smoothing
for _n in (3, 5, 10, 20):
    _FUNCTIONS[f"ewma_{_n}"] = Generator.smoothing


# ---------------------------------------------------------------------------- helpers
def _scope_keys(s: ast.Scope | None):
    if isinstance(s, (ast.ScopeAnd, ast.ScopeOr)):
        for item in s.items:
            yield from _scope_keys(item)
    elif isinstance(s, ast.ScopeNot):
        yield from _scope_keys(s.item)
    elif isinstance(s, ast.TagIn):
        yield s.key
    elif isinstance(s, ast.Tag) and s.key not in (None, "*") and (s.value is not None or s.var is not None):
        yield s.key
    elif isinstance(s, ast.Tag) and s.key is None and s.var is not None:
        yield "$" + s.var


def over_time(fn: str, range_expr: str) -> str:
    """``<fn>_over_time(range)``; the median is the 0.5 quantile."""
    if fn == "median":
        return f"quantile_over_time(0.5, {range_expr})"
    return f"{_OVER_TIME[fn]}({range_expr})"


def _tags_of(q: ast.MetricQuery, groups: tuple[str, ...], mappings: Mappings) -> tuple[str, ...] | None:
    tags = tuple(dict.fromkeys(q.group_by))
    return tags if len(tags) == len(groups) else None


def _p(text: str) -> str:
    return f"({text})" if " " in text else text


def _by(labels: tuple[str, ...]) -> str:
    return f" by ({', '.join(labels)}) " if labels else ""


def fmt_number(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def fmt_duration(seconds: float) -> str:
    if not 0 <= seconds <= MAX_SECONDS:
        raise Unsupported(f"A duration of {seconds:g} seconds is out of range.")
    seconds = max(int(seconds), 1)
    for unit, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def duration_seconds(duration: str) -> int:
    """A PromQL duration (``5m``, ``1h30m``) in seconds; 60 for what is not one
    (a Grafana variable such as ``$__interval``)."""
    parts = re.findall(r"(\d+)(ms|[smhdwy])", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        return 60
    units = dict(_UNITS, y=365 * 86400, ms=0)
    return sum(int(n) * units[u] for n, u in parts) or 60


def subquery_step(window_seconds: int) -> str:
    """Resolution of a subquery over a monitor window (Datadog's monitor
    rollup is of this order: one point per minute for windows up to a day).
    Never under a minute: the step is also the window of rate()/increase()
    inside the subquery, which needs two samples at common scrape intervals."""
    if window_seconds <= 86400:
        return "1m"
    if window_seconds <= 7 * 86400:
        return "5m"
    return "1h"


def matchers_text(matchers: list[tuple[str, str, str]]) -> str:
    return ",".join(f'{label}{op}"{_escape(value)}"' for label, op, value in matchers)


def selector(name: str, matchers: list[tuple[str, str, str]]) -> str:
    text = matchers_text(matchers)
    return f"{name}{{{text}}}" if text else name


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_REGEX_META = re.compile(r"([.^$|+?*()\[\]{}\\])")


def _wildcard(value: str) -> str:
    """Datadog wildcard value (``*`` = any run of characters) → RE2 pattern
    (Prometheus anchors it); everything else matches literally."""
    return ".*".join(_REGEX_META.sub(r"\\\1", part) for part in value.split("*"))


def _merge_or(conj: list[list[tuple[str, str, str]]]) -> list[list[tuple[str, str, str]]]:
    """``a:1 OR a:2`` → one regex matcher ``a=~"1|2"``."""
    if len(conj) > 1 and all(len(c) == 1 and c[0][1] in ("=", "=~") for c in conj):
        labels = {c[0][0] for c in conj}
        if len(labels) == 1:
            parts = [c[0][2] if c[0][1] == "=~" else _REGEX_META.sub(r"\\\1", c[0][2]) for c in conj]
            return [[(labels.pop(), "=~", "|".join(dict.fromkeys(parts)))]]
    return conj


def _kwarg(args: list, name: str) -> str | None:
    for a in args:
        if isinstance(a, ast.Keyword) and a.name == name:
            v = a.value
            return v.value if isinstance(v, ast.String) else v.text if isinstance(v, ast.Number) else None
    return None


def _period(text: str | None) -> int | None:
    """'60m', '1w', '1mo' or seconds → seconds."""
    if not text:
        return None
    m = re.fullmatch(r"(\d+)(mo|[smhdw])?", text.strip())
    if not m:
        return None
    n, unit = int(m.group(1)), m.group(2) or "s"
    return n * (MONTH_SECONDS if unit == "mo" else dict(_UNITS)[unit])


def _arg_word(args: list, i: int) -> str | None:
    a = args[i] if len(args) > i else None
    return a.value if isinstance(a, ast.String) else a.name if isinstance(a, ast.Name) else None


def _arg_number(args: list, i: int) -> float | None:
    a = args[i] if len(args) > i else None
    if isinstance(a, ast.Number):
        return a.value
    try:
        return float(a.value) if isinstance(a, ast.String) else None
    except ValueError:
        return None
