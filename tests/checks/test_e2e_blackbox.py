"""End to end: the generated blackbox config in the real blackbox exporter, the
generated Probe / ServiceMonitor translated into an equivalent plain scrape_config
for a real Prometheus, both on 127.0.0.1, probing a local HTTP server."""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dd2prom.emit.yamlio import dump_yaml
from tests.checks.helpers import convert, load, snapshot_with
from tests.support import free_port, require_binary, running

pytestmark = pytest.mark.e2e


def _camel_to_snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def _relabel(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{_camel_to_snake(k): v for k, v in r.items()} for r in rules]


def scrape_config(obj: dict[str, Any], blackbox: str, every: str = "1s") -> dict[str, Any]:
    """What the Prometheus operator generates for a Probe or an endpoint of a
    ServiceMonitor on the blackbox exporter (target discovery replaced by a static target)."""
    spec = obj["spec"]
    if obj["kind"] == "Probe":
        static = spec["targets"]["staticConfig"]
        return {"job_name": spec["jobName"], "metrics_path": spec["prober"].get("path", "/probe"),
                "scrape_interval": every, "scrape_timeout": every,
                "params": {"module": [spec["module"]]},
                "static_configs": [{"targets": static["static"], "labels": static.get("labels", {})}],
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": blackbox},
                    {"target_label": "job", "replacement": spec["jobName"]}]}
    ep = spec["endpoints"][0]
    return {"job_name": obj["metadata"]["name"], "metrics_path": ep["path"], "scrape_interval": every,
            "scrape_timeout": every, "params": ep["params"], "static_configs": [{"targets": [blackbox]}],
            "relabel_configs": _relabel(ep["relabelings"])}


def variant(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """Both forms run side by side in one Prometheus: a `variant` label keeps their series apart."""
    cfg["job_name"] = name
    cfg["relabel_configs"].append({"target_label": "variant", "replacement": name})
    return cfg


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _query(prom: str, expr: str) -> list[dict[str, Any]]:
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]["result"]


def _wait_for(prom: str, expr: str, value: str, count: int, timeout: float = 45) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        last = _query(prom, expr)
        if len(last) == count and all(r["value"][1] == value for r in last):
            return last
        time.sleep(0.3)
    raise AssertionError(f"{expr} never became {value}: {last}")


def test_probe_success_follows_the_server(tmp_path: Path):
    require_binary("prometheus")
    require_binary("prometheus-blackbox-exporter")
    app_port, bb_port, prom_port = free_port(), free_port(), free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", app_port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    snap = snapshot_with(tmp_path, checks={"conf.d/http_check.d/conf.yaml": f"""
instances:
  - name: local-app
    url: http://127.0.0.1:{app_port}/healthz
    content_match: '"status":\\s*"ok"'
    tags: ["team:sre"]
"""}, synthetics={"e2e-syn-001": {
        "name": "Local app", "type": "api", "subtype": "http", "options": {"tick_every": 60},
        "config": {"request": {"method": "GET", "url": f"http://127.0.0.1:{app_port}/"},
                   "assertions": [{"type": "statusCode", "operator": "is", "target": 200}]}}})
    blackbox = f"127.0.0.1:{bb_port}"
    items = convert(snap, tmp_path / "probe-out", blackbox_url=f"http://{blackbox}")
    sm_items = convert(snap, tmp_path / "sm-out", blackbox_url=f"http://{blackbox}", blackbox_service_monitors=True)
    objs = [load(tmp_path / "probe-out", o) for i in items.values() for o in i["outputs"] if "/probes/" in o]
    objs += [load(tmp_path / "sm-out", o) for i in sm_items.values() for o in i["outputs"] if "servicemonitors" in o]
    assert len(objs) == 4
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "scrape_configs": [variant(scrape_config(o, blackbox), f"{o['kind']}-{n}") for n, o in enumerate(objs)]}
    (tmp_path / "prometheus.yml").write_text(dump_yaml(config))
    bb_cmd = ["prometheus-blackbox-exporter", f"--config.file={tmp_path / 'probe-out/blackbox/blackbox.yml'}",
              f"--web.listen-address={blackbox}"]
    prom = f"http://127.0.0.1:{prom_port}"
    prom_cmd = ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"]
    with running(bb_cmd, f"http://{blackbox}/", tmp_path / "bb.log"), \
            running(prom_cmd, f"{prom}/-/ready", tmp_path / "prom.log"):
        try:
            up = _wait_for(prom, 'probe_success{instance=~".*127.0.0.1.*"}', "1", 4)
            labels = sorted(({k: v for k, v in r["metric"].items() if k not in ("__name__", "variant")}
                             for r in up), key=lambda m: m["job"])
            check = {"job": "http_check-local-app", "instance": f"http://127.0.0.1:{app_port}/healthz",
                     "check_name": "local-app", "team": "sre"}
            syn = {"job": "synthetics-e2e-syn-001", "instance": f"http://127.0.0.1:{app_port}/",
                   "synthetics_test_id": "e2e-syn-001"}
            assert labels == [check, check, syn, syn]   # Probe and ServiceMonitor forms give the same labels
        finally:
            server.shutdown()
            server.server_close()
        _wait_for(prom, 'probe_success{instance=~".*127.0.0.1.*"}', "0", 4)
