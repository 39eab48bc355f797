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


def receiver_for(am: AlertmanagerConfig, handle: str, monitor: str) -> Receiver:
    """The receiver for one @-handle (created on first use)."""
    kind, _, rest = handle.partition("-")
    key = dns_name(rest or handle, max_len=253)
    name = dns_name(handle, max_len=253)
    if EMAIL_RE.match(handle):
        am.set_global(smtp_smarthost=am.placeholder("smtp.example.invalid:587"),
                      smtp_from=am.placeholder("alertmanager@example.invalid"))
        return Receiver(am.add_receiver(f"email-{handle}", email_configs=[{"to": handle, "send_resolved": True}]),
                        "E-mail needs the global smtp_smarthost/smtp_from placeholders replaced.")
    if kind == "slack" and rest:
        secret = am.secret_file("dd2prom-slack", key, monitor)
        return Receiver(am.add_receiver(name, slack_configs=[{
            "api_url_file": secret, "send_resolved": True,
            "title": '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}', "text": SLACK_TEXT}]))
    if kind == "pagerduty" and rest:
        secret = am.secret_file("dd2prom-pagerduty", key, monitor)
        return Receiver(am.add_receiver(name, pagerduty_configs=[{
            "routing_key_file": secret, "send_resolved": True,
            "severity": '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
            "description": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}]))
    if kind == "opsgenie" and rest:
        secret = am.secret_file("dd2prom-opsgenie", key, monitor)
        return Receiver(am.add_receiver(name, opsgenie_configs=[{
            "api_key_file": secret, "send_resolved": True,
            "priority": "{{ .CommonLabels.priority }}",   # the monitor's P1…P5 (empty → Opsgenie's default)
            "message": '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'}]))
    if kind == "webhook" and rest:
        url = am.placeholder(f"http://{key}.webhook.invalid/")
        return Receiver(am.add_receiver(name, webhook_configs=[{"url": url, "send_resolved": True}]),
                        f"Webhook {handle}: Alertmanager 0.25 cannot read a webhook URL from a Secret; "
                        f"replace the placeholder {url}.", Status.MANUAL)
    if kind == "teams" and rest:
        url = am.placeholder(f"http://{key}.msteams-bridge.invalid/")
        return Receiver(am.add_receiver(name, webhook_configs=[{"url": url, "send_resolved": True}]),
                        f"Microsoft Teams {handle}: Alertmanager 0.25 has no msteams_configs; point the "
                        f"placeholder {url} at a Teams bridge (e.g. prometheus-msteams).", Status.MANUAL)
    if kind == "team" and rest:
        return Receiver(am.add_receiver(name),
                        f"{handle} is a Datadog Team: its notification channels are not in the snapshot; "
                        f"configure receiver {name}.", Status.MANUAL)
    return Receiver(am.add_receiver(name),
                    f"@{handle} has no Alertmanager integration equivalent here; receiver {name} is empty.",
                    Status.MANUAL)


def condition_matchers(conds: tuple[Condition, ...]) -> list[str]:
    out = []
    for label, exact, values, negated in conds:
        if exact:
            pattern = "|".join(regex_escape(v) for v in values)
        else:
            pattern = ".*(" + "|".join(regex_escape(v) for v in values) + ").*"
        out.append(f'{label}{"!~" if negated else "=~"}"{escape_value(pattern)}"')
    return out


def add_monitor_route(am: AlertmanagerConfig, matchers: dict[str, str], monitor_label: str,
                      mentions: dict[str, list[tuple[str, tuple[Condition, ...]]]],
                      states_present: list[str], group_by: list[str],
                      renotify_minutes: float | None) -> list[tuple[str, Status | None]]:
    """Route one monitor's alerts to the receivers its @-mentions name; returns notes."""
    notes: list[tuple[str, Status | None]] = []
    # (receiver, conditions) → states it is notified for
    targets: dict[tuple[str, tuple[Condition, ...]], list[str]] = {}
    for state, found in mentions.items():
        for handle, conds in found:
            if "{{" in handle:
                notes.append((f"@{handle} picks its channel from the alert's labels; add a route per "
                              "value by hand.", Status.MANUAL))
                continue
            rec = receiver_for(am, handle, monitor_label)
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
    children = []
    for (receiver, conds), states in targets.items():
        only = [] if sorted(states) == all_states else [f'{STATE_LABEL}=~"{"|".join(sorted(states))}"']
        children.append(am.route(only + condition_matchers(conds), receiver, continue_=True))
    repeat = NEVER_REPEAT if not renotify_minutes else duration(renotify_minutes * 60)
    am.add_route(matchers, DEFAULT_RECEIVER, group_by=["alertname", *group_by],
                 repeat_interval=repeat, routes=children)
    return notes
