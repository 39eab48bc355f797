"""Readers for what teams keep outside the Datadog API: agent check configs
(conf.d, Helm values, Kubernetes Autodiscovery annotations), Terraform and
datadog-sync-cli folders. ``dd2prom export --from PATH`` calls
:func:`import_sources`; ``dd2prom convert`` calls :func:`load_check_records`
on the snapshot's ``checks/`` folder (normalised or raw, see docs/checks.md)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from dd2prom.emit.yamlio import load_yaml_all
from dd2prom.export.sources import confd, helm, kubernetes
from dd2prom.export.sources.records import Record, error_record, number_records, parse_error, record_id
from dd2prom.snapshot import atomic_write_json, safe_filename

YAML_SUFFIXES = (".yaml", ".yml") + confd.EXAMPLE_SUFFIXES + (".yaml.default", ".yml.default")
DATADOG_MARKERS = ("ad.datadoghq.com/", "init_config", "instances:", "confd:")
SKIP_DIRS = {".git", ".terraform", "node_modules", "instances", "__pycache__"}


def _is_yaml(path: Path) -> bool:
    return path.name.endswith(YAML_SUFFIXES) and not confd.shadowed_example(path)


def _walk(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not any(part in SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts))


def _in_confd(path: Path) -> bool:
    return (path.parent.name.endswith(".d") and path.parent.name != "conf.d") or path.parent.name == "conf.d"


def read_check_file(path: Path, source_file: str) -> tuple[list[Record], list[dict]]:
    """Records and Services of one YAML file, whatever form it has; a file whose shape
    surprises a reader becomes one error record instead of stopping the import."""
    try:
        return _read_check_file(path, source_file)
    except Exception as exc:  # malformed but parseable content (a list where a mapping belongs...)
        return [error_record(source_file, f"unexpected structure ({exc.__class__.__name__}: "
                                          f"{' '.join(str(exc).split())[:120]})")], []


def _read_check_file(path: Path, source_file: str) -> tuple[list[Record], list[dict]]:
    if _in_confd(path) and confd.is_config_file(path):
        return confd.read_file(path, source_file), []
    try:
        text = path.read_text(encoding="utf-8")
        docs = load_yaml_all(text)
    except Exception as exc:  # YAML or decoding error: one error item for the file...
        if isinstance(exc, UnicodeDecodeError) or not any(m in text for m in DATADOG_MARKERS):
            return [], []  # ...unless it is not a Datadog file at all (Helm templates, other tools' YAML)
        return [error_record(source_file, f"not valid YAML: {parse_error(exc)}")], []
    if len(docs) == 1 and helm.is_helm_values(docs[0]):
        return helm.read_values(docs[0], source_file), []
    if any(isinstance(d, dict) and ("kind" in d or kubernetes.has_annotations(d)) for d in docs):
        return kubernetes.read_documents(docs, source_file)
    if len(docs) == 1 and isinstance(docs[0], dict) and "instances" in docs[0]:
        return confd.read_text(path.read_text(encoding="utf-8"), source_file, confd.check_name(path)), []
    return [], []


def read_check_files(files: list[tuple[Path, str]]) -> list[Record]:
    """Records of several files; Services are matched to workloads across all of them."""
    records: list[Record] = []
    services: list[dict] = []
    for path, label in files:
        recs, svcs = read_check_file(path, label)
        records += recs
        services += svcs
    kubernetes.link_services(records, services)
    return number_records(records)


def read_checks_tree(root: Path) -> list[Record]:
    """Every check record under a raw folder (conf.d/, kubernetes/, helm/ ...)."""
    return read_check_files([(p, p.relative_to(root).as_posix()) for p in _walk(root) if _is_yaml(p)])


def load_check_records(checks_dir: Path) -> list[Record]:
    """The snapshot's check records: ``checks/instances/*.json`` when present,
    else the raw folders under ``checks/`` parsed on the fly."""
    inst = checks_dir / "instances"
    if not inst.is_dir():
        return read_checks_tree(checks_dir) if checks_dir.is_dir() else []
    out: list[Record] = []
    for path in sorted(inst.glob("*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as exc:
            rec = error_record(f"instances/{path.name}", f"not a valid record: {exc}")
        out.append(rec)
    return out


def instance_filename(rec: Record) -> str:
    rid = record_id(rec)
    stem = safe_filename(rid.replace("#", "__").replace("/", "_"))
    if len(stem) > 150:
        stem = stem[:140] + "-" + hashlib.sha1(rid.encode()).hexdigest()[:8]
    return stem + ".json"


def write_check_records(records: list[Record], files: list[tuple[Path, str]], snapshot_dir: Path) -> None:
    checks = snapshot_dir / "checks"
    inst = checks / "instances"
    labels = {label for _, label in files}
    if inst.is_dir():  # a re-import of the same files replaces their records
        for old in inst.glob("*.json"):
            try:
                if json.loads(old.read_text(encoding="utf-8")).get("source_file") in labels:
                    old.unlink()
            except (ValueError, AttributeError, OSError):
                continue
    errors_seen: dict[str, int] = {}
    for rec in records:
        if rec.get("check") is None:  # file-level error: number them per file
            n = errors_seen[rec["source_file"]] = errors_seen.get(rec["source_file"], -1) + 1
            name = safe_filename(f"{rec['source_file'].replace('/', '_')}__error__{n}")[:150] + ".json"
        else:
            name = instance_filename(rec)
        atomic_write_json(inst / name, rec)
    for path, label in files:
        dest = checks / "raw" / label
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


def _unique_prefix(name: str, used: set[str]) -> str:
    """``<folder name>/`` for the files of one --from folder; two folders of the same
    name (a/conf.d, b/conf.d) get conf.d/ and conf.d-2/."""
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}-{n}", n + 1
    used.add(candidate)
    return candidate + "/"


def import_sources(paths: list[Path], snapshot_dir: Path) -> list[str]:
    """Read every --from path into the snapshot; returns one sentence per problem.

    Works without Datadog credentials: it only reads local files and writes the
    snapshot's monitors/, dashboards/, slos/, synthetics/, downtimes/ and checks/."""
    from dd2prom.export.sources import synccli, terraform

    snapshot_dir = Path(snapshot_dir)
    snapshot_dir.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    check_files: list[tuple[Path, str]] = []
    tf_modules: dict[Path, list[Path]] = {}
    prefixes: set[str] = set()
    for root in map(Path, paths):
        if not root.exists():
            errors.append(f"{root}: no such file or folder")
            continue
        base = root.parent if root.is_file() else root
        prefix = "" if root.is_file() else _unique_prefix(root.resolve().name, prefixes)
        for path in _walk(root):
            rel = path.relative_to(base).as_posix()
            if path.suffix == ".tf":
                tf_modules.setdefault(path.parent, []).append(path)
            elif path.suffix == ".json" and synccli.is_sync_file(path):
                errors += synccli.import_file(path, snapshot_dir)
            elif _is_yaml(path):
                check_files.append((path, prefix + rel))
    for module_dir, tf_files in sorted(tf_modules.items()):
        errors += terraform.import_module(module_dir, tf_files, snapshot_dir)
    if check_files:
        records = read_check_files(check_files)
        write_check_records(records, check_files, snapshot_dir)
        errors += [f"{r['source_file']}: {r['error']}" for r in records if r.get("error")]
    return errors
