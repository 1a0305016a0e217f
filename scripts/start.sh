#!/usr/bin/env bash
# Set-up and the main job: install, then train the MNIST example (784-256-10, progress bar per epoch).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm start
