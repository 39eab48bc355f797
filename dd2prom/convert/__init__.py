"""convert: snapshot → files you `kubectl apply`.

The pipeline runs one stage per resource type, each a module with the same
small interface (``run(snapshot, ctx)``), in this order:

    checks → synthetics → monitors → dashboards → slos → downtimes

then the finishers that stages registered (e.g. writing alertmanager.yaml once
monitors and downtimes have both added to it), then kustomization.yaml and
coverage.json, then the staging folder is swapped into place. Dashboards
(``start(snapshot, ctx)`` instead of ``run``) convert in worker processes from
their place on while the parent runs the later stages and the finishers; their
results are applied after the finishers.
"""

from dd2prom.convert.context import ConvertContext, ConvertOptions  # noqa: F401
from dd2prom.convert.pipeline import run_convert  # noqa: F401
