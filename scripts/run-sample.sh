#!/usr/bin/env bash
# The main job on the bundled sample organisation, no Datadog account needed:
# install, convert the snapshot, verify the output with the real tools when
# they are installed, and write the migration report.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -e .
dd2prom convert examples/sample-org --out out/sample-org
if command -v promtool >/dev/null && command -v amtool >/dev/null; then
  dd2prom verify out/sample-org
fi
dd2prom report examples/sample-org --converted out/sample-org --out reports --name sample-org
echo "output: out/sample-org   report: reports/sample-org/"
