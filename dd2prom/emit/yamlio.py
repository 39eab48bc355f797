"""One YAML style for every file dd2prom writes: block style, no aliases,
literal blocks for multi-line strings, keys in the order they were built."""

from __future__ import annotations

from typing import Any, Iterable

import yaml


# libyaml's emitter when present: the pure-Python one is slow on large
# literal blocks (dashboard JSON inside ConfigMaps).
_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(_Base):  # type: ignore[valid-type,misc]
    def ignore_aliases(self, data: Any) -> bool:  # never emit &anchors / *aliases
        return True


def _str_representer(dumper: yaml.SafeDumper, data: str):
    if "\n" in data and not any(ch in data for ch in "\r\t") and not data.endswith((" ", "\n\n")) \
            and all(not line.endswith(" ") for line in data.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(obj: Any) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=10_000)


def dump_yaml_all(objs: Iterable[Any]) -> str:
    return yaml.dump_all(list(objs), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=10_000, explicit_start=True)


def load_yaml_all(text: str) -> list[Any]:
    return [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
