#!/usr/bin/env bash
# The whole test suite on a fresh clone: install, type-check, import-cycle check, API docs, vitest.
# As root on Debian/Ubuntu it installs with apt what the suite needs: texlive-latex-base (the LaTeX
# trace tables), chromium (the playground's browser tests), Mesa's software GL and Vulkan, xvfb
# and the headers to build `gl` (GPU.js's headlessgl and webgpu modes).
# The GPU.js modes webasm, headlessgl and webgpu are required: an installer that fails stops the
# run here with its reason. LAMINA_SKIP_GL=1 / LAMINA_SKIP_WEBGPU=1 leave a mode out on purpose
# (its tests then skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
phase() { echo "test.sh: $1 ($((SECONDS - started)) s)"; }
bash scripts/ensure-deps.sh
phase "npm dependencies ready"
# pdflatex lets the suite compile the LaTeX trace tables; without it that one test says it skipped
if ! command -v pdflatex >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq --no-install-recommends texlive-latex-base) >/dev/null 2>&1 ||
    echo "note: could not install texlive-latex-base; the LaTeX compile test will be skipped"
fi
# Debian's chromium for the playground's browser tests (they skip and say why without it)
bash scripts/install-browser.sh
phase "texlive and chromium ready"
export LAMINA_GPU_MODES_REQUIRED=webasm
# headlessgl first, with the system's node: `gl` is built with node-gyp against that node's
# headers (a node copy made by install-webgpu.sh has none beside it, and node-gyp would then try
# to download them).
if [ "${LAMINA_SKIP_GL:-}" != 1 ]; then
  if ! bash scripts/install-gl.sh; then
    echo "test.sh: headlessgl is required and could not be installed (see above; LAMINA_SKIP_GL=1 leaves it out)" >&2
    exit 1
  fi
  export LAMINA_GPU_MODES_REQUIRED=$LAMINA_GPU_MODES_REQUIRED,headlessgl
fi
phase "headlessgl ready"
# webgpu through Dawn, on Mesa's software Vulkan without a GPU: install-webgpu.sh prints a node
# that loads Dawn (on Debian 12 a copy linked against Debian 13's C/C++ runtimes), and the whole
# suite runs on it (same Node version) so that the webgpu tests can use it in-process.
if [ "${LAMINA_SKIP_WEBGPU:-}" != 1 ]; then
  if ! webgpu_node=$(bash scripts/install-webgpu.sh); then
    echo "test.sh: webgpu is required and could not be installed (see above; LAMINA_SKIP_WEBGPU=1 leaves it out)" >&2
    exit 1
  fi
  export PATH="$(dirname "$webgpu_node"):$PATH"
  export LAMINA_GPU_MODES_REQUIRED=$LAMINA_GPU_MODES_REQUIRED,webgpu
  # lavapipe's window-system probe complains without one
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d) && chmod 700 "$XDG_RUNTIME_DIR" && export XDG_RUNTIME_DIR
  fi
fi
phase "webgpu ready; running npm test"
if [ "${LAMINA_SKIP_GL:-}" != 1 ] && [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a npm test
fi
npm test
