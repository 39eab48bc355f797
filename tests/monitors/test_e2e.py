"""End to end: the real Prometheus and Alertmanager run the converted rules and
config; an exporter crosses the converted threshold and the alert reaches a
local webhook with the converted labels and annotations. Uses the real
transpiler: the query, the rules, the routing and the templating all run as
they would in production."""

from __future__ import annotations

import json
import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from dd2prom.convert.pipeline import run_convert
from dd2prom.emit.yamlio import dump_yaml
from tests.support import free_port, require_binary, running

pytestmark = pytest.mark.e2e

MONITOR = {
    "id": 4242, "name": "Lab too hot in {{room.name}}", "type": "metric alert",
    "query": "max(last_1m):max:dd2prom_e2e.temperature{*} by {room} > 50",
    "message": "{{#is_alert}}Temperature {{value}} in {{room.name}}{{/is_alert}}"
               "{{#is_warning}}warm{{/is_warning}} @webhook-e2e",
    "tags": ["team:lab", "service:thermo"],
    "options": {"thresholds": {"critical": 50, "warning": 40}},
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


def serve(handler) -> tuple[_Server, int]:
    port = free_port()
    server = _Server(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


def test_alert_reaches_webhook(tmp_path):
    require_binary("prometheus")
    am_bin = shutil.which("prometheus-alertmanager") or require_binary("alertmanager")
    snap = tmp_path / "snap" / "monitors"
    snap.mkdir(parents=True)
    (snap / "4242.json").write_text(json.dumps(MONITOR))
    out = tmp_path / "out"
    run_convert(tmp_path / "snap", out, only={"monitors"})

    received: list[dict] = []

    class Exporter(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'# TYPE dd2prom_e2e_temperature gauge\ndd2prom_e2e_temperature{room="lab"} 73.5\n'
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    exporter, exporter_port = serve(Exporter)
    webhook, webhook_port = serve(Webhook)
    am_port, prom_port = free_port(), free_port()

    # test overrides: the webhook placeholder → the local receiver; no waiting
    am_cfg = yaml.safe_load((out / "alertmanager" / "alertmanager.yaml").read_text())
    am_cfg["route"].update(group_wait="0s", group_interval="1s")
    for rec in am_cfg["receivers"]:
        for hook in rec.get("webhook_configs", []):
            hook["url"] = f"http://127.0.0.1:{webhook_port}/hook"
    (tmp_path / "am.yaml").write_text(dump_yaml(am_cfg))
    (tmp_path / "prom.yaml").write_text(dump_yaml({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in (out / "prometheus" / "rule-files").glob("*.yaml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
        "scrape_configs": [{"job_name": "exporter", "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}]}],
    }))
    try:
        with running([am_bin, f"--config.file={tmp_path / 'am.yaml'}", f"--storage.path={tmp_path / 'am-data'}",
                      f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
                     f"http://127.0.0.1:{am_port}/-/ready", tmp_path / "am.log"), \
             running(["prometheus", f"--config.file={tmp_path / 'prom.yaml'}",
                      f"--storage.tsdb.path={tmp_path / 'prom-data'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
                     f"http://127.0.0.1:{prom_port}/-/ready", tmp_path / "prom.log"):
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline and not received:
                time.sleep(0.2)
            time.sleep(3)   # a warning notification, were it not inhibited, would arrive by now
    finally:
        exporter.shutdown()
        webhook.shutdown()
    assert received, "no notification reached the webhook"
    alerts = [a for msg in received for a in msg["alerts"]]
    alert = alerts[0]
    assert {"alertname": "LabTooHotIn", "severity": "critical", "dd_state": "alert", "dd_monitor_id": "4242",
            "room": "lab", "team": "lab", "service": "thermo"}.items() <= alert["labels"].items()
    assert alert["annotations"]["summary"] == "Lab too hot in lab"
    assert alert["annotations"]["description"] == "Temperature 73.5 in lab @webhook-e2e"
    # the warning rule fires too and routes to the same webhook: the inhibit rule keeps it silent
    assert all(a["labels"]["severity"] == "critical" for a in alerts)
