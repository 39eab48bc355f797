"""The Agent's conf.d folder: ``<check>.d/conf.yaml``, ``auto_conf.yaml``, and
flat ``<check>.yaml`` files (Agent 5 layout, Helm ``datadog.confd`` keys).

``conf.yaml.example`` files are not loaded by the Agent; they are read only
when their ``<check>.d`` folder holds no other config, and marked ``example``."""

from __future__ import annotations

from pathlib import Path

import yaml

from dd2prom.export.sources.records import Record, error_record, parse_error, records_from_config

CONFIG_SUFFIXES = (".yaml", ".yml", ".yaml.default", ".yml.default")
EXAMPLE_SUFFIXES = (".yaml.example", ".yml.example")


def check_name(path: Path) -> str:
    """``redisdb.d/conf.yaml`` → redisdb; ``redisdb.yaml`` → redisdb."""
    if path.parent.name.endswith(".d") and path.parent.name != "conf.d":
        return path.parent.name[:-2]
    name = path.name
    for suffix in EXAMPLE_SUFFIXES + CONFIG_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def is_config_file(path: Path) -> bool:
    return path.name.endswith(CONFIG_SUFFIXES + EXAMPLE_SUFFIXES)


def shadowed_example(path: Path) -> bool:
    """A conf.yaml.example next to a real config (auto_conf.yaml, a template, does not
    count): the Agent ignores the example, so do we."""
    if not path.name.endswith(EXAMPLE_SUFFIXES) or not path.parent.name.endswith(".d"):
        return False
    return any(s.is_file() and s.name.endswith(CONFIG_SUFFIXES) and not s.name.startswith("auto_conf.")
               for s in path.parent.iterdir())


def read_text(text: str, source_file: str, check: str, source_kind: str = "conf.d", **extra) -> list[Record]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [error_record(source_file, f"not valid YAML: {parse_error(exc)}", source_kind)]
    extra.setdefault("example", source_file.endswith(EXAMPLE_SUFFIXES))
    return records_from_config(doc, check, source_file, source_kind, **extra)


def read_file(path: Path, source_file: str) -> list[Record]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [error_record(source_file, f"cannot read the file: {exc}", "conf.d")]
    return read_text(text, source_file, check_name(path), auto_conf=path.name.startswith("auto_conf."))

