"""Stage: checks. (Placeholder: every item is listed as unsupported until the converter lands.)"""

from __future__ import annotations

from dd2prom.convert.context import ConvertContext
from dd2prom.convert.pipeline import record_unreadable
from dd2prom.model import Status
from dd2prom.snapshot import Snapshot

KIND = "check"


def run(snapshot: Snapshot, ctx: ConvertContext) -> None:
    for obj in snapshot.iter("checks"):
        if record_unreadable(ctx, KIND, obj):
            continue
        item = ctx.ledger.add(KIND, obj.id, name=str(obj.data.get("name") or obj.data.get("title") or ""),
                              type=str(obj.data.get("type") or obj.data.get("layout_type") or ""))
        item.note("The checks converter is not built yet.", Status.UNSUPPORTED)
