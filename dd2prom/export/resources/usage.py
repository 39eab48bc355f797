"""Usage for the cost report: GET /api/v1/usage/summary for the last N full
months (hosts, containers average and high-water mark, custom metrics) →
usage/summary.json, the API's JSON unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

from datadog_api_client.v1.api.usage_metering_api import UsageMeteringApi

from dd2prom.export.resources.base import Resource


def month_range(months: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """First days of the first and last of the ``months`` full months before now."""
    now = now or datetime.now(UTC)
    index = now.year * 12 + now.month - 1          # current month, 0-based
    first, last = index - max(1, months), index - 1
    return (datetime(first // 12, first % 12 + 1, 1, tzinfo=UTC),
            datetime(last // 12, last % 12 + 1, 1, tzinfo=UTC))


class Usage(Resource):
    kind = "usage"
    tagged = False
    always_fetch = True          # one request; the month range moves

    def targets(self, runner):
        start, end = month_range(runner.options.usage_months)
        return [("summary", {"start_month": start, "end_month": end})]

    def fetch(self, dd, oid, summary):
        return dd.call(dd.api(UsageMeteringApi).get_usage_summary, **summary)
