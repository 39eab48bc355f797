"""datadog-sync-cli folders: ``resources/source/<type>.json`` = {id: object}
(also one file per object: ``resources/source/<type>/<id>.json`` or
``<type>.<id>.json``). Objects are in the API's JSON shape already."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dd2prom.snapshot import atomic_write_json, safe_filename

# datadog-sync-cli resource type → snapshot folder
TYPES = {
    "monitors": "monitors",
    "dashboards": "dashboards",
    "service_level_objectives": "slos",
    "synthetics_tests": "synthetics",
    "downtimes": "downtimes",
}
ID_FIELDS = {"synthetics": "public_id"}


def is_sync_file(path: Path) -> bool:
    parts = path.resolve().parts
    return any(a == "resources" and b == "source" for a, b in zip(parts, parts[1:]))


def _resource_type(path: Path) -> str | None:
    if path.parent.name in TYPES:
        return path.parent.name
    head = path.name.split(".", 1)[0]
    return head if head in TYPES else None


def import_file(path: Path, snapshot_dir: Path) -> list[str]:
    rtype = _resource_type(path)
    if rtype is None:
        return []  # other resource types (users, roles, dashboard lists...) are not converted
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"{path}: not valid JSON ({exc})"]
    folder = TYPES[rtype]
    id_field = ID_FIELDS.get(folder, "id")
    objects: dict[str, Any]
    if isinstance(data, dict) and (id_field in data or path.parent.name in TYPES or path.name.count(".") > 1):
        objects = {str(data.get(id_field) or path.stem.split(".", 1)[-1]): data}
    elif isinstance(data, dict):
        objects = data
    else:
        return [f"{path}: expected a JSON object of {rtype}"]
    errors = []
    for oid, obj in objects.items():
        if not isinstance(obj, dict):
            errors.append(f"{path}: {rtype} {oid}: not a JSON object")
            continue
        obj = dict(obj)
        obj.setdefault(id_field, oid if folder != "monitors" or not oid.isdigit() else int(oid))
        atomic_write_json(snapshot_dir / folder / f"{safe_filename(str(obj[id_field]))}.json", obj)
    return errors
