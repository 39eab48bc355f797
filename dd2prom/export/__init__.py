"""``dd2prom export``: Datadog API → snapshot folder (contract in dd2prom/snapshot.py
and docs/export.md).

Layout of this package: ``command`` (the command and :func:`~dd2prom.export.command.export`,
the library entry point), ``client`` (datadog-api-client with retries, rate-limit
waits and key redaction), ``resources/`` (one module per resource type),
``runner`` (paging, isolation, concurrency, resume, atomic writes, manifest),
``metric_names`` (metric names referenced by queries), ``sources/`` (``--from``:
agent check configs, manifests, Helm values, Terraform, sync-cli folders).

Nothing is imported here: ``convert`` reads agent check configs through
``sources`` and needs neither the API client nor its HTTP stack (~0.1 s at start).
"""
