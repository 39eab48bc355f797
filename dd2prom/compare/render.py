"""compare.json, compare.csv and the terminal table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dd2prom.snapshot import atomic_write_json, atomic_write_text

VERDICT_STYLE = {"match": "green", "no_data": "dim", "skipped": "dim", "error": "bold red",
                 "missing": "magenta", "diverges": "red"}

ATTENTION = ("diverges", "missing", "error")
TABLE_ALL_ROWS = 40   # above this many compared rows the terminal shows only those needing attention

CSV_COLUMNS = [
    "kind", "id", "name", "query_index", "verdict", "datadog_series", "prometheus_series", "matched_series",
    "missing_in_prometheus", "missing_in_datadog", "points_compared", "relative_error_median",
    "relative_error_max", "decision_steps", "decision_agree", "fired_datadog", "fired_prometheus",
    "step_seconds", "datadog_query", "promql", "headline",
]


def flat_row(r: dict[str, Any]) -> dict[str, Any]:
    s, p, e, d = r.get("series") or {}, r.get("points") or {}, r.get("relative_error") or {}, r.get("decisions") or {}
    return {
        "kind": r["kind"], "id": r["id"], "name": r["name"], "query_index": r["query_index"],
        "verdict": r["verdict"], "datadog_series": s.get("datadog"), "prometheus_series": s.get("prometheus"),
        "matched_series": s.get("matched"), "missing_in_prometheus": len(s.get("missing_in_prometheus") or []) if s else None,
        "missing_in_datadog": len(s.get("missing_in_datadog") or []) if s else None,
        "points_compared": p.get("compared"), "relative_error_median": e.get("median"),
        "relative_error_max": e.get("max"), "decision_steps": d.get("steps"), "decision_agree": d.get("agree"),
        "fired_datadog": d.get("fired_datadog"), "fired_prometheus": d.get("fired_prometheus"),
        "step_seconds": r.get("step_seconds"), "datadog_query": r.get("datadog_query"), "promql": r.get("promql"),
        "headline": r.get("headline"),
    }


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in flat_row(r).items()})
    return buf.getvalue()


def write(out_dir: Path, document: dict[str, Any]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out_dir / "compare.json", out_dir / "compare.csv"
    atomic_write_json(json_path, document)
    atomic_write_text(csv_path, to_csv(document["items"]))
    return json_path, csv_path


def _pct(x: Any) -> str:
    return "" if x is None else f"{x * 100:.1f}%"


def print_table(console: Console, document: dict[str, Any]) -> None:
    table = Table(title=f"compare {document['range']['from']} → {document['range']['to']} "
                        f"(tolerance {_pct(document['tolerance'])})")
    for col, justify in [("kind", "left"), ("id", "left"), ("name", "left"), ("series dd/prom/matched", "right"),
                         ("missing in dd/prom", "right"), ("rel. err median", "right"), ("max", "right"),
                         ("decisions agree", "right"), ("verdict", "left")]:
        table.add_column(col, justify=justify, overflow="fold")
    compared = [r for r in document["items"] if r["verdict"] != "skipped"]
    shown = compared if len(compared) <= TABLE_ALL_ROWS else [r for r in compared if r["verdict"] in ATTENTION]
    for r in shown:
        s, e, d = r.get("series") or {}, r.get("relative_error") or {}, r.get("decisions") or {}
        ident = r["id"] + (f"#{r['query_index']}" if r["kind"] == "widget" else "")
        series = f"{s['datadog']}/{s['prometheus']}/{s['matched']}" if s else ""
        missing = f"{len(s['missing_in_datadog'])}/{len(s['missing_in_prometheus'])}" if s else ""
        agree = f"{d['agree']}/{d['steps']}" if d else ""
        style = VERDICT_STYLE.get(r["verdict"], "")
        table.add_row(r["kind"], escape(ident), escape((r["name"] or "")[:40]), series, missing, _pct(e.get("median")),
                      _pct(e.get("max")), agree, f"[{style}]{r['verdict']}[/{style}]")
    console.print(table)
    for r in shown:
        if r["verdict"] in ATTENTION:
            console.print(f"[{VERDICT_STYLE[r['verdict']]}]{r['kind']} {escape(r['id'])}[/]: ", end="")
            console.print(r["headline"], markup=False, highlight=False)
    summary = document["summary"]
    console.print(", ".join(f"{summary.get(v, 0)} {v.replace('_', ' ')}" for v in VERDICT_STYLE)
                  + (f" (the {len(compared) - len(shown)} matching or empty rows are in compare.json)"
                     if len(shown) < len(compared) else ""))
    reasons: dict[str, int] = {}
    for r in document["items"]:
        if r["verdict"] == "skipped":
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        console.print(f"[dim]skipped {n}: {escape(str(reason))}[/dim]", highlight=False)


def report_table(document: dict[str, Any]) -> dict[str, Any]:
    """The comparison as one table for ``dd2prom report`` (name, title, columns,
    rows, note): compared items, worst verdict first; skipped ones are counted
    in the note only."""
    from dd2prom.compare.ledger import VERDICTS

    s = document.get("summary") or {}
    rows = []
    for r in sorted((r for r in document.get("items") or [] if r.get("verdict") != "skipped"),
                    key=lambda r: (-VERDICTS.index(r["verdict"]) if r["verdict"] in VERDICTS else 0, r["kind"], r["id"])):
        f = flat_row(r)
        rows.append([f["kind"], f["id"] + (f"#{f['query_index']}" if f["kind"] == "widget" else ""), f["name"],
                     f["verdict"], f["matched_series"], f["missing_in_prometheus"], f["missing_in_datadog"],
                     _pct(f["relative_error_median"]), _pct(f["relative_error_max"]),
                     f"{f['decision_agree']}/{f['decision_steps']}" if f["decision_steps"] is not None else "",
                     f["headline"]])
    rng = document.get("range") or {}
    note = (f"Datadog's numbers against Prometheus's from {rng.get('from')} to {rng.get('to')}, tolerance "
            f"{_pct(document.get('tolerance'))} on the median relative error: {s.get('match', 0)} match, "
            f"{s.get('diverges', 0)} diverge, {s.get('missing', 0)} miss series, {s.get('error', 0)} failed, "
            f"{s.get('no_data', 0)} without data, {s.get('skipped', 0)} not comparable.")
    return {"name": "comparison", "title": "Translations checked against Datadog's numbers",
            "columns": ["kind", "id", "name", "verdict", "matched series", "missing in Prometheus",
                        "missing in Datadog", "median error", "max error", "decisions agree", "finding"],
            "rows": rows, "note": note}
