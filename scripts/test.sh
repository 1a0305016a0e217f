#!/usr/bin/env bash
# The whole test suite on a fresh clone: install, type-check, import-cycle check, vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm test
