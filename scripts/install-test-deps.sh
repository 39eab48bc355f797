#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine:
# the Python package with its test extras, Debian's Prometheus tools,
# Chromium (report screenshots) and the TypeScript checker for Grafana JSON.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -e '.[test]'

need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# TypeScript + @grafana/schema for type-checking generated dashboards (versions pinned in package.json)
if [ -f tests/dashboards/tsc/package.json ] && [ ! -d tests/dashboards/tsc/node_modules ]; then
  (cd tests/dashboards/tsc && npm install --silent --no-audit --no-fund >/dev/null)
fi
