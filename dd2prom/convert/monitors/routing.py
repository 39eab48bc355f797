"""@-mentions → Alertmanager receivers and one route per monitor.

Each Datadog handle becomes one receiver (shared by every monitor naming it).
Secrets are never invented: Slack webhook URLs, PagerDuty routing keys and
Opsgenie API keys are read from mounted Kubernetes Secrets (``*_file`` fields
Alertmanager 0.25 supports); webhook URLs, which 0.25 cannot read from a file,
are ``.invalid`` placeholders. A monitor's route matches its ``dd_monitor_id``
label and has one child per receiver, restricted to the rule states
(``dd_state``) and ``is_match`` conditions the mention was written under.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NamedTuple

from dd2prom.convert.monitors.message import Condition, regex_escape
from dd2prom.convert.monitors.rules import STATE_LABEL, duration
from dd2prom.emit.alertmanager import DEFAULT_RECEIVER, AlertmanagerConfig, escape_value, secret_path
from dd2prom.emit.k8s import dns_name
from dd2prom.model import Status

EMAIL_RE = re.compile(r"^[^@\s]+@[\w\-]+(\.[\w\-]+)+$")
SLACK_TEXT = ('{{ range .Alerts }}*{{ .Annotations.summary }}*\n'
              '{{ if and (eq .Status "resolved") .Annotations.recovery_message }}{{ .Annotations.recovery_message }}'
              '{{ else }}{{ .Annotations.description }}{{ end }}\n'
              '{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}{{ end }}')
NEVER_REPEAT = "8760h"   # Datadog renotify_interval 0 = never renotify


@dataclass
class Receiver:
    name: str
    note: str | None = None
    status: Status | None = None


def receiver_for(am: AlertmanagerConfig, handle: str, monitor: str, send_resolved: bool = True) -> Receiver:
    """The receiver for one @-handle (created on first use). Datadog notifies a
    handle of the recovery only when the recovery message still mentions it;
    one that is not gets the ``<handle>-firing-only`` receiver (``send_resolved: false``)."""
    name, configs, note, status, needs = _integration(handle, send_resolved)
    for secret, key in needs.secrets:
        am.secret_file(secret, key, monitor)
    for what in needs.placeholders:
        am.placeholder(what)
    if needs.smtp:
        am.set_global(smtp_smarthost=SMTP_PLACEHOLDERS[0], smtp_from=SMTP_PLACEHOLDERS[1])
    return Receiver(am.add_receiver(name, **configs), note, status)


SMTP_PLACEHOLDERS = ("smtp.example.invalid:587", "alertmanager@example.invalid")


class _Needs(NamedTuple):
    """What a receiver's configs read, registered with the Alertmanager builder
    of every monitor that uses it: Secret keys, placeholders, global SMTP."""

    secrets: tuple[tuple[str, str], ...] = ()
    placeholders: tuple[str, ...] = ()
    smtp: bool = False


@functools.lru_cache(maxsize=4096)
def _integration(handle: str, send_resolved: bool) -> tuple[str, dict, str | None, Status | None, _Needs]:
    """Receiver name, configs, note, status and what the configs need, for a
    handle (a few handles, named by thousands of monitors: made once; the
    configs are shared and never changed)."""
    kind, rest, key, name, email = _handle_names(handle)
    firing_only = "" if send_resolved else "-firing-only"
    if email:
        return (f"email-{handle}{firing_only}", {"email_configs": [{"to": handle, "send_resolved": send_resolved}]},
                "E-mail needs the global smtp_smarthost/smtp_from placeholders replaced.", None,
                _Needs(placeholders=SMTP_PLACEHOLDERS, smtp=True))
    integration = _SECRET_INTEGRATIONS.get(kind)
    if integration and rest:
        secret, field, fields = integration
        config = {field: secret_path(secret, key), **fields, "send_resolved": send_resolved}
        return name + firing_only, {f"{kind}_configs": [config]}, None, None, _Needs(secrets=((secret, key),))
    if kind == "webhook" and rest:
        url = f"http://{key}.webhook.invalid/"
        return (name + firing_only, {"webhook_configs": [{"url": url, "send_resolved": send_resolved}]},
                f"Webhook {handle}: Alertmanager 0.25 cannot read a webhook URL from a Secret; "
                f"replace the placeholder {url}.", Status.MANUAL, _Needs(placeholders=(url,)))
    if kind == "teams" and rest:
        url = f"http://{key}.msteams-bridge.invalid/"
        return (name + firing_only, {"webhook_configs": [{"url": url, "send_resolved": send_resolved}]},
                f"Microsoft Teams {handle}: Alertmanager 0.25 has no msteams_configs; point the "
                f"placeholder {url} at a Teams bridge (e.g. prometheus-msteams).", Status.MANUAL,
                _Needs(placeholders=(url,)))
    if kind == "team" and rest:
        return (name + firing_only, {}, f"{handle} is a Datadog Team: its notification channels are not in the "
                f"snapshot; configure receiver {name}.", Status.MANUAL, _Needs())
    return (name + firing_only, {}, f"@{handle} has no Alertmanager integration equivalent here; receiver {name} "
            "is empty.", Status.MANUAL, _Needs())


# integrations whose credential is a mounted Secret key: the Secret, the *_file field, the other fields
_SECRET_INTEGRATIONS: dict[str, tuple[str, str, dict[str, str]]] = {
    "slack": ("dd2prom-slack", "api_url_file", {
        "title": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}', "text": SLACK_TEXT}),
    "pagerduty": ("dd2prom-pagerduty", "routing_key_file", {
        "severity": '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
        "description": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}),
    "opsgenie": ("dd2prom-opsgenie", "api_key_file", {
        "priority": "{{ .CommonLabels.priority }}",   # the monitor's P1…P5 (empty → Opsgenie's default)
        "message": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}),
}


@functools.lru_cache(maxsize=4096)
def _handle_names(handle: str) -> tuple[str, str, str, str, bool]:
    """Integration kind, the rest, its Secret key, the receiver name and whether
    it is an e-mail address (a few handles, named by thousands of monitors)."""
    kind, _, rest = handle.partition("-")
    return kind, rest, dns_name(rest or handle, max_len=253), dns_name(handle, max_len=253), \
        EMAIL_RE.match(handle) is not None


def condition_matchers(conds: tuple[Condition, ...]) -> list[str]:
    out = []
    for label, exact, values, negated, strip_port in conds:
        if exact:
            pattern = "|".join(regex_escape(v) for v in values)
            if strip_port:   # Datadog's host name against an instance that may carry :port
                pattern = f"({pattern})(:[0-9]+)?"
        else:
            pattern = ".*(" + "|".join(regex_escape(v) for v in values) + ").*"
        out.append(f'{label}{"!~" if negated else "=~"}"{escape_value(pattern)}"')
    return out


def add_monitor_route(am: AlertmanagerConfig, matchers: dict[str, str], monitor_label: str,
                      mentions: dict[str, list[tuple[str, tuple[Condition, ...]]]],
                      states_present: list[str], group_by: list[str],
                      renotify_minutes: float | None,
                      resolved: set[str] | None = None,
                      renotify_states: set[str] | None = None) -> list[tuple[str, Status | None]]:
    """Route one monitor's alerts to the receivers its @-mentions name; returns notes.
    ``resolved``: the handles Datadog tells of a recovery (None = all);
    ``renotify_states``: the states re-notified every ``renotify_minutes``
    (Datadog's renotify_statuses; None = all): the others never repeat."""
    notes: list[tuple[str, Status | None]] = []
    # (receiver, conditions) → states it is notified for
    targets: dict[tuple[str, tuple[Condition, ...]], list[str]] = {}
    receivers: dict[str, Receiver] = {}   # a handle mentioned for several states is registered once
    for state, found in mentions.items():
        for handle, conds in found:
            if "{{" in handle:
                notes.append((f"@{handle} picks its channel from the alert's labels; add a route per "
                              "value by hand.", Status.MANUAL))
                continue
            rec = receivers.get(handle)
            if rec is None:
                rec = receivers[handle] = receiver_for(am, handle, monitor_label, resolved is None or handle in resolved)
                if rec.note:
                    notes.append((rec.note, rec.status))
            states = targets.setdefault((rec.name, conds), [])
            if state not in states:
                states.append(state)
    for state in states_present:   # what amtool must show for each state (no is_match conditions)
        am.add_route_test({**matchers, STATE_LABEL: state},
                          [rec for (rec, conds), states in targets.items() if state in states and not conds])
    if not targets:
        return notes
    all_states = sorted(states_present)
    repeat = NEVER_REPEAT if not renotify_minutes else duration(renotify_minutes * 60)
    children = []
    for (receiver, conds), states in targets.items():
        repeated = [s for s in states if repeat == NEVER_REPEAT or renotify_states is None or s in renotify_states]
        once = [s for s in states if s not in repeated]
        for part, interval in ((repeated, None), (once, NEVER_REPEAT)):
            if part:
                only = [] if sorted(part) == all_states else [f'{STATE_LABEL}=~"{"|".join(sorted(part))}"']
                children.append(am.route(only + condition_matchers(conds), receiver, continue_=True,
                                         repeat_interval=interval))
    am.add_route(matchers, DEFAULT_RECEIVER, group_by=["alertname", *group_by],
                 repeat_interval=repeat, routes=children)
    return notes
