"""PrometheusRule files per owner, written while the monitors settle.

Each converted monitor becomes one rule group. Where the monitor is converted
(a worker process, see :mod:`dd2prom.convert.parallel`) its group and its
promtool test cases are also turned into YAML text, as the items of the block
sequences they will sit in (:func:`~dd2prom.emit.yamlio.dump_yaml_items`). The
parent only appends those texts, in settle order, to the files of the owner's
current *part*; a part is full when its rules reach :data:`MAX_RULE_BYTES` and
the next member opens part 2, 3... So the parent neither holds every
monitor's rules until the end nor renders them itself, and the files are the
same bytes as dumping each part's documents whole.

Per part (``<name>`` = ``monitors-<owner>[-<part>]``):

* ``prometheus/rules/<name>.yaml``            PrometheusRule (kustomization)
* ``prometheus/rule-files/<name>.rules.yaml`` the same groups as a rule file
* ``prometheus/tests/<name>.test.yaml``       promtool unit tests, when a member has some
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.monitors.build import MonitorRules
from dd2prom.convert.monitors.ruletests import tests_text
from dd2prom.emit import k8s
from dd2prom.emit.yamlio import SLOT, dump_yaml_items, split_at_slot, unnest_yaml
from dd2prom.model import CoverageItem
from dd2prom.snapshot import dumps

# kubectl's last-applied annotation is limited to 256 KiB and etcd objects to
# ~1.5 MiB: an owner's rules are split into parts well under that
MAX_RULE_BYTES = 200_000
BUFFERED = 32 << 20    # text held before the open parts' files are appended to


@dataclass(slots=True)
class RenderedRules:
    """A converted monitor as text ready for its owner's files (cheap to send
    between processes)."""

    ref: str
    alert_name: str
    group: list[str]
    status: str
    cost: int            # size of the rules (indented JSON), for splitting owners into parts
    rule_cr: str         # the rule group as an item of the PrometheusRule's spec.groups
    rule_file: str       # the same as an item of a rule file's groups
    tests: str           # the promtool test cases, as items of a test file's tests
    n_tests: int

    def __reduce__(self) -> tuple:
        """Pickled as the constructor's arguments: a slotted dataclass's own
        state functions look its fields up on every call (one per monitor, in
        the worker and again in the parent)."""
        return RenderedRules, (self.ref, self.alert_name, self.group, self.status, self.cost, self.rule_cr,
                               self.rule_file, self.tests, self.n_tests)

    @classmethod
    def of(cls, mr: MonitorRules) -> "RenderedRules":
        rule_dicts = [r.to_dict() for r in mr.rules]
        group = [{"name": f"{mr.alert_name} ({mr.spec.ref})", "rules": rule_dicts}]
        tests, n_tests = tests_text(mr)
        rule_cr = dump_yaml_items(group, 2)
        rule_file = unnest_yaml(rule_cr, 2) or dump_yaml_items(group, 1)
        # cost: the indented JSON of the rules, a little longer than their YAML, much quicker to make
        return cls(mr.spec.ref, mr.alert_name, list(mr.group), mr.status.value, len(dumps(rule_dicts)),
                   rule_cr, rule_file, tests, n_tests)


@dataclass
class _Part:
    name: str
    size: int = 0
    members: list[tuple[CoverageItem, str, int]] = field(default_factory=list)   # (item, monitor id, tests)
    tails: dict[str, str] = field(default_factory=dict)   # rel → text after the items

    @property
    def paths(self) -> tuple[str, str, str]:
        return (f"prometheus/rules/{self.name}.yaml", f"prometheus/rule-files/{self.name}.rules.yaml",
                f"prometheus/tests/{self.name}.test.yaml")


class RuleFiles:
    """The owners' rule files, appended to as monitors settle (in input order,
    composites last); :meth:`finish` closes them and tells each monitor's ledger
    row which files hold it."""

    def __init__(self, ctx: ConvertContext) -> None:
        self.ctx = ctx
        self._open: dict[str, _Part] = {}          # owner → its current part
        self._count: dict[str, int] = {}           # owner → parts started
        self._parts: list[_Part] = []
        self._buffers: dict[str, list[str]] = {}
        self._buffered = 0

    def add(self, owner: str, rr: RenderedRules, item: CoverageItem) -> None:
        part = self._open.get(owner)
        if part is None or (part.members and part.size + rr.cost > MAX_RULE_BYTES):
            number = self._count[owner] = self._count.get(owner, 0) + 1
            part = self._open[owner] = self._start(owner, number)
        cr, rule_file, tests = part.paths
        self._append(cr, rr.rule_cr)
        self._append(rule_file, rr.rule_file)
        if rr.n_tests:
            if tests not in part.tails:
                self._begin(part, tests, {"rule_files": [f"../rule-files/{part.name}.rules.yaml"],
                                          "evaluation_interval": "1m", "tests": [SLOT]})
            self._append(tests, rr.tests)
        part.size += rr.cost
        part.members.append((item, rr.ref, rr.n_tests))

    def finish(self, more_outputs: Callable[[str], list[str]]) -> None:
        """Close every part; ``more_outputs(monitor id)``: further files the
        monitor's alert goes to (the Alertmanager config), listed after its rule files."""
        for part in self._parts:
            for rel, tail in part.tails.items():
                self._append(rel, tail)
        self._flush()
        for part in self._parts:
            outputs = [rel for rel in part.paths if rel in part.tails]
            for item, ref, n_tests in part.members:
                item.extra["tests"] = n_tests
                item.outputs.extend(outputs)
                item.outputs.extend(more_outputs(ref))

    def _start(self, owner: str, number: int) -> _Part:
        part = _Part(k8s.dns_name(f"monitors-{owner or 'unowned'}" + (f"-{number}" if number > 1 else "")))
        self._parts.append(part)
        labels = {"release": self.ctx.options.release_label}
        if owner:
            labels["dd2prom.io/owner"] = k8s.label_value(owner)
        cr, rule_file, _ = part.paths
        self._begin(part, cr, k8s.monitoring("PrometheusRule", part.name, {"groups": [SLOT]},
                                             namespace=self.ctx.options.namespace, labels=labels))
        self.ctx.out.k8s_files[cr] = None
        self._begin(part, rule_file, {"groups": [SLOT]})
        return part

    def _begin(self, part: _Part, rel: str, document: dict[str, Any]) -> None:
        """Start a file with ``document`` up to its slot (the list item ``SLOT``)."""
        head, tail = split_at_slot(document)
        self._buffers[rel] = [head]
        self._buffered += len(head)
        part.tails[rel] = tail

    def _append(self, rel: str, text: str) -> None:
        self._buffers.setdefault(rel, []).append(text)
        self._buffered += len(text)
        if self._buffered > BUFFERED:
            self._flush()

    def _flush(self) -> None:
        for rel, texts in self._buffers.items():
            self.ctx.out.append_text(rel, texts)
        self._buffers.clear()
        self._buffered = 0
