#!/usr/bin/env bash
# Installs the npm dependencies from the lock file when they are missing or stale.
# --ignore-scripts: none of the dependencies needs its install script here (core-js prints a
# banner, esbuild finds its binary in @esbuild/<platform>), and npm 11 would otherwise run gl's
# (`prebuild-install || node-gyp rebuild`) even though it is not approved: a GitHub download that
# cannot succeed here, then minutes of compiling whenever the headers happen to be installed.
# scripts/install-gl.sh builds gl once into a cache instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts
fi
