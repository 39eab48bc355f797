#!/usr/bin/env python3
"""Generate mappings/metrics.yaml from the reference metric maps
(../shared/reference/metric-maps): Datadog integrations rename Prometheus
metrics, so the maps are inverted here into Datadog name → Prometheus name,
type and unit conversion. Only facts (names, types, factors) are carried over.

Row fields (compact on purpose: the table is loaded on every run):
  p: Prometheus metric name          t: Prometheus type (counter|gauge|histogram|summary)
  d: Datadog type (gauge|count|rate) x: scale factor applied to the Prometheus value
  e: PromQL template instead of p: selectors carry ``@`` where scope matchers go,
     ``[$W]`` is the rate window, ``@B`` extends ``by (...)`` with the query's groups
  n: note (why the mapping is not exact)   s: source file

Usage: python scripts/gen_mappings.py [REFERENCE_DIR]   (default: $DD2PROM_SHARED/reference/metric-maps)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dd2prom.convert.queries.mapping import template  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# ../shared next to the checkout (or $DD2PROM_SHARED), as the tests find it
DEFAULT_REF = Path(os.environ.get("DD2PROM_SHARED", REPO.parent / "shared")) / "reference" / "metric-maps"


def _dd_type(text: str | None) -> str:
    t = str(text or "gauge")
    if "rate" in t and t.startswith("gauge"):
        return "rate"          # submitted with rate(): stored per-second
    for word in ("count", "rate", "gauge"):
        if t.startswith(word):
            return word
    return "gauge"




def host_and_container(doc: dict, rows: dict) -> None:
    for m in doc["metrics"]:
        promql = str(m.get("promql") or "")
        if not promql or promql.startswith("(") and "no " in promql:
            continue
        prom = m.get("prometheus_metrics") or []
        row = {"e": template(promql), "d": _dd_type(m.get("datadog_type")), "t": "gauge"}
        if len(prom) == 1 and re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:]*", promql.strip()):
            row = {"p": promql.strip(), "t": "gauge", "d": row["d"]}
        if m.get("note"):
            row["n"] = " ".join(str(m["note"]).split())
        row["s"] = "host-and-container"
        rows[m["datadog"]] = row


def integration(doc: dict, name: str, rows: dict) -> None:
    for m in doc.get("metrics") or []:
        dd, prom = m.get("datadog"), str(m.get("prometheus") or "")
        if not dd or not prom or not re.fullmatch(r"[\w.]+", dd):
            continue
        if not re.match(r"[A-Za-z_:][A-Za-z0-9_:]*(\{|$)", prom):
            continue          # a name pattern such as <queue>_queue_latency, not one metric
        ptype = m.get("prom_type") or "gauge"
        transform = str(m.get("transform") or "")
        row: dict = {"t": ptype, "d": _dd_type(m.get("datadog_type")), "s": name}
        if "1e9" in transform:
            row["x"] = 1e9
        elif "1e6" in transform:
            row["x"] = 1e6
        if "{" in prom or "time()" in transform or transform.startswith("sum by"):
            expr = prom if "{" in prom else transform
            if "time()" in transform:
                expr = re.search(r"time\(\) - \w+", transform).group()
            row.pop("t")
            row["e"] = template(expr)
            row["t"] = "gauge"
        else:
            row["p"] = prom
        if ptype in ("histogram", "summary"):
            family = re.sub(r"_(bucket|sum|count)$", "", prom)
            row["p"] = family
            for series in m.get("datadog_series") or []:
                series = series if isinstance(series, dict) else {"name": str(series).split()[0]}
                suffix = series["name"].rsplit(".", 1)[-1]
                if suffix in ("sum", "count", "bucket"):
                    rows.setdefault(series["name"], {"p": f"{family}_{suffix}", "t": "counter",
                                                     "d": _dd_type(series.get("datadog_type", "count")), "s": name})
        if m.get("note") or (transform and "x" not in row and "e" not in row):
            row["n"] = " ".join(str(m.get("note") or transform).split())
        rows.setdefault(dd, row)
        if m.get("datadog_v1") and re.fullmatch(r"[\w.]+", str(m["datadog_v1"])):
            rows.setdefault(m["datadog_v1"], dict(row))


def render(ref: Path) -> str:
    """The text of mappings/metrics.yaml built from the reference maps in ``ref``."""
    rows: dict[str, dict] = {}
    # the curated core table first: it wins over the integration maps
    host_and_container(yaml.safe_load((ref / "host-and-container.yaml").read_text()), rows)
    # kube-state-metrics v2 (core check) names win over the legacy check's
    for path in sorted(ref.glob("*.yaml"), key=lambda p: (p.stem != "kubernetes_state_core", p.stem)):
        if path.stem in ("host-and-container", "k8s-tags"):
            continue
        integration(yaml.safe_load(path.read_text()), path.stem, rows)
    header = ("# Generated by scripts/gen_mappings.py from the reference metric maps (facts only).\n"
              "# Fields: p Prometheus metric, t Prometheus type, d Datadog type, x scale factor,\n"
              "# e PromQL template (@ = scope matchers, [$W] = window, @B = extra group labels), n note, s source.\n"
              "# Written in JSON, the subset of YAML that convert reads quickest (one row per line).\n")
    lines = [f"{json.dumps(name)}: {json.dumps(row, sort_keys=True, ensure_ascii=False)}" for name, row in sorted(rows.items())]
    return header + '{"metrics": {\n' + ",\n".join(lines) + "\n}}\n"


if __name__ == "__main__":
    text = render(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_REF)
    (REPO / "mappings" / "metrics.yaml").write_text(text)
    print("mappings/metrics.yaml written")
