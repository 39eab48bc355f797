"""The shared Alertmanager configuration (``alertmanager/alertmanager.yaml``).

Several stages contribute to one file: monitors add receivers, routes and
inhibit rules; SLOs add routes; downtimes add time intervals and mute routes.
Every stage gets the same builder with :func:`alertmanager_config`; the file
is written once, after all stages, by a finisher.

Interface (stable, used by monitors, slos, downtimes)::

    am = alertmanager_config(ctx)            # created on first use, in ctx.shared["alertmanager"]
    am.add_receiver("slack-ops", slack_configs=[{...}])   # idempotent per name; returns the name
    route = am.add_route({"dd_monitor_id": "123"}, "slack-ops",
                         group_by=["alertname", "host"], repeat_interval="1h",
                         continue_=True)     # returns the route dict (append to route["routes"])
    am.add_inhibit_rule({"severity": "critical"}, {"severity": "warning"},
                        equal=["alertname", "host"])
    am.add_time_interval("downtime-42", [{"times": [...], "weekdays": [...]}])
    am.mute_route({"dd_monitor_id": "123"}, "downtime-42")   # alerts matching are muted during it
    am.secret_file("slack-ops", "api_url")   # "/etc/alertmanager/secrets/slack-ops/api_url"
    am.add_route_test({"dd_monitor_id": "123", "severity": "critical"}, ["slack-ops"])
                                              # checked by `dd2prom verify` with amtool config routes test
    am.to_dict()                              # the alertmanager.yaml document

Matchers are either ``{label: value}`` (equality) or a list of Alertmanager
matcher strings (``'severity=~"critical|warning"'``).

Secrets are never invented: receivers read them with Alertmanager's
``*_file`` fields from the paths where the Prometheus operator mounts
``alertmanagerSpec.secrets`` (``/etc/alertmanager/secrets/<secret>/<key>``);
:meth:`AlertmanagerConfig.required_secrets` lists the Secrets a user must
create (written to ``alertmanager/required-secrets.yaml``). Where
Alertmanager 0.25 has no ``*_file`` field (webhook URLs) the value is a
``.invalid`` placeholder that must be replaced.

Muting: ``mute_route`` adds, under every leaf route that can match, a child
route with the same matchers and ``mute_time_intervals`` (Alertmanager does
not inherit mute intervals, so it must sit on the route that notifies). When
two mutes overlap on one alert only the first listed applies, except that
mutes with the same matchers share one child route muted during all their
intervals.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any, NamedTuple, Union

from dd2prom.emit.k8s import obj
from dd2prom.emit.yamlio import SLOT, dump_yaml, nest_yaml_utf8, split_at_slot

OUTPUT = "alertmanager/alertmanager.yaml"
SECRETS_OUTPUT = "alertmanager/required-secrets.yaml"
ROUTE_TESTS_OUTPUT = "alertmanager/route-tests.yaml"
# Optional: the config as the Secret alertmanagerSpec.configSecret names. Not listed in
# kustomization.yaml: applying it only takes effect once the user points the chart at it,
# and then it replaces the chart's whole alertmanager.config.
CONFIG_SECRET_OUTPUT = "alertmanager/config-secret.yaml"
CONFIG_SECRET_NAME = "dd2prom-alertmanager-config"
# kube-prometheus-stack values: the config as alertmanager.config and the Secrets to mount
HELM_VALUES_OUTPUT = "alertmanager/values.yaml"
SECRET_ROOT = "/etc/alertmanager/secrets"
DEFAULT_RECEIVER = "default"
SHARED_KEY = "alertmanager"

Matchers = Union[dict[str, str], list[str], None]

# the quoted value: runs of plain characters between escapes (the same strings as
# ``(?:[^"\\]|\\.)*``, matched several times faster: a downtime's monitor-id
# alternatives are tens of thousands of characters)
_MATCHER_RE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"\\]*(?:\\.[^"\\]*)*)"\s*$')


def matcher_list(matchers: Matchers) -> list[str]:
    """Matchers as Alertmanager matcher strings (values quoted and escaped)."""
    if not matchers:
        return []
    if isinstance(matchers, dict):
        return [f'{k}="{escape_value(str(v))}"' for k, v in matchers.items()]
    out = []
    for m in matchers:
        if not _MATCHER_RE.match(m):
            raise ValueError(f"not an Alertmanager matcher: {m!r}")
        out.append(m)
    return out


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _equalities(matchers: list[str], seen: dict[str, tuple[str, str] | None]) -> dict[str, str]:
    """The label values ``matchers`` require; ``seen``: each matcher's equality
    (or None), remembered (the state matchers of every monitor route repeat)."""
    out = {}
    for m in matchers:
        eq = seen.get(m, False)
        if eq is False:
            match = _MATCHER_RE.match(m)
            eq = seen[m] = match.group(1, 3) if match and match.group(2) == "=" else None
        if eq is not None:
            out[eq[0]] = eq[1]
    return out


_LITERAL_ALTS_RE = re.compile(r"^[A-Za-z0-9_.:/@ -]+(?:\|[A-Za-z0-9_.:/@ -]+)*$")


Decided = tuple[str, Union[str, None], Union[frozenset, None]]


def _decide(matcher: str) -> Decided:
    """``(matcher, label, values it allows)`` for an equality or a regex of
    literal alternatives (``dd_monitor_id=~"1|2|3"``); ``(matcher, None, None)``
    for any other matcher."""
    match = _MATCHER_RE.match(matcher)
    if match:
        name, op, value = match.groups()
        if op == "=":
            return matcher, name, frozenset([value])
        if op == "=~" and _LITERAL_ALTS_RE.match(value):
            return matcher, name, frozenset(value.split("|"))
    return matcher, None, None


def _narrow(matchers: list[Decided], known: dict[str, str]) -> list[str] | None:
    """The matchers still needed under a route whose alerts are known to carry
    the ``known`` label values: None when one of them can never match there,
    else the list without those the route already guarantees (see :func:`_decide`)."""
    needed = []
    for m, name, allowed in matchers:
        if name is None or name not in known:
            needed.append(m)
        elif known[name] not in allowed:   # type: ignore[operator]
            return None
    return needed


class AlertmanagerConfig:
    """Builder of one alertmanager.yaml; every method keeps the document valid."""

    def __init__(self, *, group_wait: str = "30s", group_interval: str = "5m",
                 repeat_interval: str = "4h", group_by: Iterable[str] = ("alertname",)) -> None:
        self.root: dict[str, Any] = {
            "receiver": DEFAULT_RECEIVER,
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
        }
        self.global_: dict[str, Any] = {}
        self.receivers: dict[str, dict[str, Any]] = {DEFAULT_RECEIVER: {"name": DEFAULT_RECEIVER}}
        self.routes: list[dict[str, Any]] = []
        self.inhibit_rules: list[dict[str, Any]] = []
        self.time_intervals: dict[str, list[dict[str, Any]]] = {}
        self.mutes: list[tuple[list[str], str]] = []
        # secret name → {key: [who uses it]}
        self.secrets: dict[str, dict[str, list[str]]] = {}
        self.placeholders: list[str] = []
        self.route_tests: list[dict[str, Any]] = []
        # keys of what the lists above already hold: the dedupe checks stay O(1)
        # with tens of thousands of monitors
        self._seen: set[tuple] = set()

    def _first(self, *key: Any) -> bool:
        """True the first time ``key`` is seen (then remembered)."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    # -- receivers -------------------------------------------------------------
    def add_receiver(self, name: str, **configs: list[dict[str, Any]]) -> str:
        """Add a receiver (``slack_configs=[...]`` etc.). Adding a name again
        merges new configs in without duplicating identical ones."""
        rec = self.receivers.setdefault(name, {"name": name})
        for key, items in configs.items():
            have = rec.setdefault(key, [])
            for it in items:
                if it not in have:
                    have.append(it)
        return name

    def secret_file(self, secret: str, key: str, used_by: str = "") -> str:
        """Path of a mounted Secret key; the Secret is recorded as required."""
        users = self.secrets.setdefault(secret, {}).setdefault(key, [])
        if used_by and self._first("secret", secret, key, used_by):
            users.append(used_by)
        return secret_path(secret, key)

    def placeholder(self, what: str) -> str:
        """A value that must be replaced by hand (recorded in required-secrets.yaml)."""
        if self._first("placeholder", what):
            self.placeholders.append(what)
        return what

    def set_global(self, **values: Any) -> None:
        for k, v in values.items():
            self.global_.setdefault(k, v)

    # -- routes ----------------------------------------------------------------
    def add_route(self, matchers: Matchers, receiver: str, *, group_by: Iterable[str] | None = None,
                  repeat_interval: str | None = None, group_wait: str | None = None,
                  group_interval: str | None = None, continue_: bool = False,
                  routes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Append a route under the root; returns it (callers may add child routes)."""
        route = self.route(matchers, receiver, group_by=group_by, repeat_interval=repeat_interval,
                           group_wait=group_wait, group_interval=group_interval,
                           continue_=continue_, routes=routes)
        self.routes.append(route)
        return route

    @staticmethod
    def route(matchers: Matchers, receiver: str | None, *, group_by: Iterable[str] | None = None,
              repeat_interval: str | None = None, group_wait: str | None = None,
              group_interval: str | None = None, continue_: bool = False,
              routes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A route dict (not attached), for nesting under another route."""
        route: dict[str, Any] = {}
        if receiver:
            route["receiver"] = receiver
        ms = matcher_list(matchers)
        if ms:
            route["matchers"] = ms
        if group_by is not None:
            route["group_by"] = list(dict.fromkeys(group_by))
        for key, value in (("group_wait", group_wait), ("group_interval", group_interval),
                           ("repeat_interval", repeat_interval)):
            if value:
                route[key] = value
        if continue_:
            route["continue"] = True
        if routes:
            route["routes"] = routes
        return route

    def add_inhibit_rule(self, source: Matchers, target: Matchers, equal: Iterable[str] = ()) -> None:
        rule: dict[str, Any] = {"source_matchers": matcher_list(source), "target_matchers": matcher_list(target)}
        if equal:
            rule["equal"] = list(dict.fromkeys(equal))
        if self._first("inhibit", *(tuple(v) for v in rule.values())):
            self.inhibit_rules.append(rule)

    def add_route_test(self, labels: dict[str, str], receivers: Iterable[str]) -> None:
        """An alert with ``labels`` must reach exactly ``receivers`` (written to
        route-tests.yaml; ``dd2prom verify`` runs each through amtool)."""
        entry = {"labels": dict(labels), "receivers": sorted(set(receivers)) or [DEFAULT_RECEIVER]}
        if self._first("route test", frozenset(entry["labels"].items()), tuple(entry["receivers"])):
            self.route_tests.append(entry)

    # -- time intervals and muting ----------------------------------------------
    def add_time_interval(self, name: str, intervals: list[dict[str, Any]]) -> str:
        self.time_intervals[name] = list(intervals)
        return name

    def mute_route(self, matchers: Matchers, interval_name: str) -> None:
        """Mute alerts matching ``matchers`` during the named time interval."""
        entry = (matcher_list(matchers), interval_name)
        if self._first("mute", tuple(entry[0]), interval_name):
            self.mutes.append(entry)

    def _mute_index(self) -> "_MuteIndex":
        """Each mute's matchers decided once (:func:`_decide`), and which mutes a
        leaf route must look at: those decided by no label (``anywhere``) and,
        per label, those that can only match some of its values: a leaf route
        that knows that label's value looks only at the mutes allowing it.
        ``signatures``: per label a mute decides on, per value, which of the
        distinct sets of values those matchers allow hold it (so which matchers
        allow it): what a leaf gets depends only on its labels' signatures (the
        key of ``children``). A downtime's scope is the same matchers in several
        mutes (one per interval): equal matchers are decided once and their set
        of values (thousands of monitor ids) is gone through once."""
        known: dict[str, Decided] = {}
        decided = [[known[m] if m in known else known.setdefault(m, _decide(m)) for m in ms]
                   for ms, _ in self.mutes]
        signatures: dict[str, dict[str, list[int]]] = {}
        value_sets: dict[tuple[str, frozenset], int] = {}
        for ms in decided:
            for _, name, allowed in ms:
                if name is not None and (name, allowed) not in value_sets:
                    n = value_sets[(name, allowed)] = len(value_sets)   # type: ignore[index]
                    per_value = signatures.setdefault(name, {})
                    for v in allowed:   # type: ignore[union-attr]
                        per_value.setdefault(v, []).append(n)
        signed = sorted((label, {v: tuple(sig) for v, sig in per_value.items()})
                        for label, per_value in signatures.items())
        anywhere: list[int] = []
        by_label: dict[str, tuple[list[int], dict[str, list[int]]]] = {}
        for i, ms in enumerate(decided):
            first = next(((name, allowed) for _, name, allowed in ms if name is not None), None)
            if first is None:
                anywhere.append(i)
                continue
            every, by_value = by_label.setdefault(first[0], ([], {}))
            every.append(i)
            for v in first[1]:
                by_value.setdefault(v, []).append(i)
        return _MuteIndex(decided, anywhere, by_label, signed, {}, {}, {})

    def _muted(self, route: dict[str, Any], inherited: dict[str, str], index: "_MuteIndex",
               key: tuple | None = None) -> dict[str, Any]:
        """``route`` with, under every leaf that can match a mute, one child per
        such mute (a new dict where something changed, one dict for equal leaves; the
        builder's routes stay as built). ``key``: the signature key of ``inherited``
        (see below), worked out once for the children of a route that adds no
        label value (a monitor's state routes) rather than once for each."""
        matchers = route.get("matchers")
        required = _equalities(matchers, index.equalities) if matchers else None
        if required:
            inherited, key = {**inherited, **required}, None
        if key is None:
            # two values allowed by the same matchers (a value none allows: as any
            # other such value) act alike: thousands of leaves (one per monitor) share a few keys
            key = tuple(per_value.get(inherited[label], True) if label in inherited else False
                        for label, per_value in index.signed)
        children = route.get("routes")
        if children:
            return {**route, "routes": [self._muted(child, inherited, index, key) for child in children]}
        mute_children = index.children.get(key)
        if mute_children is None:
            candidates = set(index.anywhere)
            for label, (every, by_value) in index.by_label.items():
                candidates.update(by_value.get(inherited[label], ()) if label in inherited else every)
            # one list for every leaf with this key: the document is only dumped, never changed
            mute_children = index.children[key] = _mute_children(
                [(_narrow(index.decided[i], inherited), self.mutes[i][1]) for i in sorted(candidates)])
        # tens of thousands of leaves (a state route per monitor) are a hundred
        # different ones: equal leaves become one object, which the YAML writer
        # writes once and copies (see fastyaml._sequence)
        leaf_key = _frozen(route, id(mute_children))
        leaf = index.leaves.get(leaf_key) if leaf_key is not None else None
        if leaf is None:
            leaf = {**route, "routes": mute_children} if mute_children else route
            if leaf_key is not None:
                index.leaves[leaf_key] = leaf
        return leaf

    # -- combining -------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """Only what differs from a new builder, without the dedupe keys: one is
        sent back from a worker process per monitor, and only :meth:`merge` reads it."""
        fresh = _fresh_state()
        return {k: v for k, v in vars(self).items() if k != "_seen" and v != fresh[k]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()   # type: ignore[misc]
        vars(self).update(state)

    def merge(self, other: "AlertmanagerConfig") -> None:
        """Add what ``other`` (a builder one item was converted into, possibly
        in another process) holds, as if its calls had been made on this one.
        (Once per monitor: what ``other`` left empty is skipped, and a receiver
        equal to the one here adds nothing.)"""
        if other.global_:
            self.set_global(**other.global_)
        receivers = self.receivers
        for name, rec in other.receivers.items():
            if receivers.get(name) != rec:
                self.add_receiver(name, **{k: v for k, v in rec.items() if k != "name"})
        self.routes.extend(other.routes)
        for rule in other.inhibit_rules:
            if self._first("inhibit", *(tuple(v) for v in rule.values())):
                self.inhibit_rules.append(rule)
        if other.time_intervals:
            self.time_intervals.update(other.time_intervals)
        for ms, interval in other.mutes:
            self.mute_route(ms, interval)
        for secret, keys in other.secrets.items():
            for key, users in keys.items():
                for user in users or [""]:   # (a key no monitor uses is recorded all the same)
                    self.secret_file(secret, key, user)
        for what in other.placeholders:
            self.placeholder(what)
        for test in other.route_tests:   # as add_route_test made them: taken as they are
            if self._first("route test", frozenset(test["labels"].items()), tuple(test["receivers"])):
                self.route_tests.append(test)

    # -- output ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The alertmanager.yaml document. Equal parts of it (a leaf's mute routes,
        equal muted leaves) are one shared object: dump it, do not change it."""
        for _, interval in self.mutes:
            if interval not in self.time_intervals:
                raise ValueError(f"mute_route names an unknown time interval: {interval}")
        root = dict(self.root)
        # (mute routes name no receiver: the routes as built name them all)
        unknown = sorted({r for r in _receivers_used({**root, "routes": self.routes}) if r not in self.receivers})
        if unknown:
            raise ValueError(f"routes name unknown receivers: {', '.join(unknown)}")
        routes = list(self.routes)
        if self.mutes:
            index = self._mute_index()
            routes = [self._muted(r, {}, index) for r in routes]
            # alerts no route catches still reach the default receiver; mute those too
            routes.extend(_mute_children(self.mutes))
        if routes:
            root["routes"] = routes
        doc: dict[str, Any] = {}
        if self.global_:
            doc["global"] = dict(self.global_)
        doc["route"] = root
        if self.inhibit_rules:
            doc["inhibit_rules"] = list(self.inhibit_rules)
        doc["receivers"] = [self.receivers[n] for n in sorted(self.receivers)]
        if self.time_intervals:
            doc["time_intervals"] = [{"name": n, "time_intervals": v} for n, v in sorted(self.time_intervals.items())]
        return doc

    def required_secrets(self) -> dict[str, Any]:
        """The Kubernetes Secrets (and placeholders) the config expects, for the user."""
        return {
            "note": ("Create these Secrets in the Alertmanager's namespace and list them in "
                     "alertmanager.alertmanagerSpec.secrets (kube-prometheus-stack values); the operator "
                     f"mounts them at {SECRET_ROOT}/<secret>/<key>, the *_file paths in alertmanager.yaml. "
                     "Each key's value is the credential alone (no trailing newline). Replace every placeholder."),
            "secrets": [{"name": name, "keys": [{"key": k, "used_by": sorted(v)} for k, v in sorted(keys.items())]}
                        for name, keys in sorted(self.secrets.items())],
            "alertmanagerSpec": {"secrets": sorted(self.secrets)},
            "placeholders": list(self.placeholders),
        }

    @staticmethod
    def config_secret(namespace: str, config_text: str) -> dict[str, Any]:
        """The Secret for kube-prometheus-stack's ``alertmanager.alertmanagerSpec.configSecret``
        (the operator reads key ``alertmanager.yaml``); it holds no credential, only ``*_file`` paths."""
        return obj("v1", "Secret", CONFIG_SECRET_NAME, namespace=namespace, type="Opaque",
                   annotations={"dd2prom/usage": "set alertmanager.alertmanagerSpec.configSecret: "
                                                 f"{CONFIG_SECRET_NAME} in the kube-prometheus-stack values; "
                                                 "it replaces the chart's alertmanager.config"},
                   stringData={"alertmanager.yaml": config_text})

    def helm_values(self, config: Any) -> dict[str, Any]:
        """``helm upgrade -f`` input for kube-prometheus-stack: Helm replaces the chart's lists
        (route.routes, receivers, inhibit_rules) and merges its maps (global, templates stay)."""
        values: dict[str, Any] = {"config": config}
        if self.secrets:
            values["alertmanagerSpec"] = {"secrets": sorted(self.secrets)}
        return {"alertmanager": values}

    def _config_copies(self, namespace: str, config: dict[str, Any], text: str,
                       data: bytes) -> dict[str, list[str | bytes]]:
        """The texts of the Secret and the Helm values holding the config, each
        as pieces to write one after the other: the config's lines, 4 columns
        deeper, are both the Secret's ``|`` block and the values'
        ``alertmanager.config``, so they are indented once rather than dumped
        twice more (see :func:`nest_yaml_utf8`; ``data``: ``text`` as UTF-8), and
        written as they are rather than copied into each file's text (tens of MB
        at scale)."""
        nested = nest_yaml_utf8(text, data, 4)
        if nested is None:
            return {CONFIG_SECRET_OUTPUT: [dump_yaml(self.config_secret(namespace, text))],
                    HELM_VALUES_OUTPUT: [dump_yaml(self.helm_values(config))]}
        head, tail = split_at_slot(self.config_secret(namespace, SLOT))
        secret = [head[:-1] + " |\n", *nested, tail]   # the block's indicator goes after the key
        head, tail = split_at_slot(self.helm_values(SLOT))
        return {CONFIG_SECRET_OUTPUT: secret, HELM_VALUES_OUTPUT: [head, *nested, tail]}

    def write(self, out, namespace: str = "monitoring") -> None:
        # the document is built (mutes spread under every route) and dumped once:
        # at scale it is tens of MB, and the Secret and the values hold it again
        config = self.to_dict()
        text = dump_yaml(config)
        data = text.encode("utf-8")   # (once: the writer would encode each copy)
        out.write_text(OUTPUT, data)
        for path, pieces in self._config_copies(namespace, config, text, data).items():
            out.write_pieces(path, pieces)
        if self.secrets or self.placeholders:
            out.write_yaml(SECRETS_OUTPUT, self.required_secrets())
        if self.route_tests:
            out.write_yaml(ROUTE_TESTS_OUTPUT, {"tests": self.route_tests})


class _MuteIndex(NamedTuple):
    """What :meth:`AlertmanagerConfig._muted` looks mutes up in (see ``_mute_index``)."""

    decided: list[list[Any]]
    anywhere: list[int]
    by_label: dict[str, tuple[list[int], dict[str, list[int]]]]
    signed: list[tuple[str, dict[str, tuple[int, ...]]]]
    children: dict[tuple, list[dict[str, Any]]]       # signature key → the leaf's mute children
    equalities: dict[str, tuple[str, str] | None]     # matcher → the equality it requires
    leaves: dict[tuple, dict[str, Any]]               # a leaf's items and mute children → the one muted leaf


def _frozen(route: dict[str, Any], children_id: int) -> tuple | None:
    """A hashable key of a leaf route's items in order (its lists of strings as
    tuples) and of its mute children (``children_id``, the id of the one list kept
    in ``_MuteIndex.children``); None for any other value (the leaf is kept as it is)."""
    items: list[Any] = [children_id]
    for k, v in route.items():
        t = type(v)
        if t is list:
            v = tuple(v)
            for x in v:
                if type(x) is not str:
                    return None
        elif t not in _PLAIN_VALUES:
            return None
        items += (k, v)
    return tuple(items)


_PLAIN_VALUES = frozenset({str, int, float, bool, type(None)})


def _mute_children(mutes: Iterable[tuple[list[str] | None, str]]) -> list[dict[str, Any]]:
    """One child route per distinct list of matchers (None: the mute can never
    match here), muted during every interval of the mutes that share it. A later
    child with the same matchers would never be reached (the first catches its
    alerts), so its interval joins the first: muted while any of them is active."""
    children: dict[tuple[str, ...], dict[str, Any]] = {}
    for matchers, interval in mutes:
        if matchers is None:
            continue
        child = children.get(key := tuple(matchers))
        if child is None:
            children[key] = {"matchers": list(matchers), "mute_time_intervals": [interval]} if matchers \
                else {"mute_time_intervals": [interval]}
        elif interval not in child["mute_time_intervals"]:
            child["mute_time_intervals"].append(interval)
    return list(children.values())


@functools.cache
def _fresh_state() -> dict[str, Any]:
    """A new builder's state (made once; compared with, never changed)."""
    return vars(AlertmanagerConfig())


def secret_path(secret: str, key: str) -> str:
    """Where a Secret's key is mounted in the Alertmanager pod (what ``*_file`` fields name)."""
    return f"{SECRET_ROOT}/{secret}/{key}"


def _receivers_used(route: dict[str, Any]) -> Iterable[str]:
    todo = [route]
    while todo:
        route = todo.pop()
        if route.get("receiver"):
            yield route["receiver"]
        todo.extend(route.get("routes", ()))


def alertmanager_config(ctx) -> AlertmanagerConfig:
    """The run's shared builder; the first caller creates it and registers the
    finisher that writes alertmanager/alertmanager.yaml after all stages."""
    am = ctx.shared.get(SHARED_KEY)
    if am is None:
        am = AlertmanagerConfig()
        ctx.shared[SHARED_KEY] = am
        ctx.on_finish("alertmanager", lambda c: c.shared[SHARED_KEY].write(c.out, c.options.namespace))
    return am
