#!/usr/bin/env bash
# Set-up and the main job: install, then run the autodiff example (seed 004 in both modes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm start
