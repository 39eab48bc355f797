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

from dd2prom.convert.monitors.message import Condition, regex_escape
from dd2prom.convert.monitors.rules import STATE_LABEL, duration
from dd2prom.emit.alertmanager import DEFAULT_RECEIVER, AlertmanagerConfig, escape_value
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
    name, configs, note, status = _integration(am, handle, monitor)
    if not send_resolved:
        name = f"{name}-firing-only"
    configs = {k: [{**c, "send_resolved": send_resolved} for c in v] for k, v in configs.items()}
    return Receiver(am.add_receiver(name, **configs), note, status)


def _integration(am: AlertmanagerConfig, handle: str, monitor: str) -> tuple[str, dict, str | None, Status | None]:
    """Receiver name, configs (without send_resolved), note and status for a handle."""
    kind, rest, key, name, email = _handle_names(handle)
    if email:
        am.set_global(smtp_smarthost=am.placeholder("smtp.example.invalid:587"),
                      smtp_from=am.placeholder("alertmanager@example.invalid"))
        return (f"email-{handle}", {"email_configs": [{"to": handle}]},
                "E-mail needs the global smtp_smarthost/smtp_from placeholders replaced.", None)
    if kind == "slack" and rest:
        secret = am.secret_file("dd2prom-slack", key, monitor)
        return name, {"slack_configs": [{
            "api_url_file": secret,
            "title": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}', "text": SLACK_TEXT}]}, None, None
    if kind == "pagerduty" and rest:
        secret = am.secret_file("dd2prom-pagerduty", key, monitor)
        return name, {"pagerduty_configs": [{
            "routing_key_file": secret,
            "severity": '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
            "description": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}]}, None, None
    if kind == "opsgenie" and rest:
        secret = am.secret_file("dd2prom-opsgenie", key, monitor)
        return name, {"opsgenie_configs": [{
            "api_key_file": secret,
            "priority": "{{ .CommonLabels.priority }}",   # the monitor's P1…P5 (empty → Opsgenie's default)
            "message": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}]}, None, None
    if kind == "webhook" and rest:
        url = am.placeholder(f"http://{key}.webhook.invalid/")
        return (name, {"webhook_configs": [{"url": url}]},
                f"Webhook {handle}: Alertmanager 0.25 cannot read a webhook URL from a Secret; "
                f"replace the placeholder {url}.", Status.MANUAL)
    if kind == "teams" and rest:
        url = am.placeholder(f"http://{key}.msteams-bridge.invalid/")
        return (name, {"webhook_configs": [{"url": url}]},
                f"Microsoft Teams {handle}: Alertmanager 0.25 has no msteams_configs; point the "
                f"placeholder {url} at a Teams bridge (e.g. prometheus-msteams).", Status.MANUAL)
    if kind == "team" and rest:
        return (name, {}, f"{handle} is a Datadog Team: its notification channels are not in the snapshot; "
                f"configure receiver {name}.", Status.MANUAL)
    return (name, {}, f"@{handle} has no Alertmanager integration equivalent here; receiver {name} is empty.",
            Status.MANUAL)


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
    for state, found in mentions.items():
        for handle, conds in found:
            if "{{" in handle:
                notes.append((f"@{handle} picks its channel from the alert's labels; add a route per "
                              "value by hand.", Status.MANUAL))
                continue
            rec = receiver_for(am, handle, monitor_label, resolved is None or handle in resolved)
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
