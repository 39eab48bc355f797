#!/usr/bin/env bash
# The test command (README, CI): install what the tests need, then run them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
python3 -m pytest -q -p no:cacheprovider "$@"
