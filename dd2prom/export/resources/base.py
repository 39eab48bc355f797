"""The interface every exported resource type implements (one module each,
like datadog-sync-cli's resource classes). The runner does the rest: paging,
isolation of failing pages, concurrency, resume and atomic writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from dd2prom.export.client import Datadog
    from dd2prom.export.runner import Runner


class Resource:
    """One Datadog resource type, written to ``<kind>/<id>.json``.

    Listed resources set ``page_size`` and implement :meth:`list_page`; the list
    entries are the objects unless ``detail`` is set, in which case
    :meth:`fetch` gets each one. Unlisted resources (metric metadata, usage)
    implement :meth:`targets` instead.
    """

    kind: str = ""
    id_field: str = "id"
    page_size: int = 0           # 0: not a paged list
    detail: bool = False         # fetch each object after listing
    tagged: bool = True          # objects carry a ``tags`` list (--tag applies)
    always_fetch: bool = False   # a stored copy never counts as current
    list_entry_fallback: bool = False  # keep the list entry when its detail fetch fails
    # which runner lane: "write" (lists written as they come: disk/CPU bound),
    # "fetch" (one request per object: latency/rate-limit bound), "after" (needs the others)
    lane: str = "write"

    def list_page(self, dd: Datadog, offset: int, limit: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def fetch(self, dd: Datadog, oid: str, summary: dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def targets(self, runner: Runner) -> Iterable[tuple[str, dict[str, Any] | None]]:
        """(id, summary) pairs for resources that are not listed."""
        raise NotImplementedError

    def object_id(self, obj: dict[str, Any]) -> str:
        return str(obj.get(self.id_field))

    def version(self, obj: dict[str, Any] | None) -> str | None:
        """What tells whether a stored copy is current (None: always current)."""
        return obj.get("modified_at") if isinstance(obj, dict) else None

    def tags(self, obj: dict[str, Any]) -> list[str]:
        tags = obj.get("tags")
        return [str(t) for t in tags] if isinstance(tags, list) else []
