#!/usr/bin/env bash
# The whole test suite on a fresh clone: install, type-check, import-cycle check, API docs, vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
# pdflatex lets the suite compile the LaTeX trace tables; without it that one test says it skipped
if ! command -v pdflatex >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (timeout 600 apt-get update -qq && timeout 900 apt-get install -y -qq --no-install-recommends texlive-latex-base) >/dev/null 2>&1 ||
    echo "note: could not install texlive-latex-base; the LaTeX compile test will be skipped"
fi
# Debian's chromium for the playground's browser tests (they skip and say why without it)
bash scripts/install-browser.sh
# webasm must run everywhere; webgpu and headlessgl (GPU.js on Mesa's software Vulkan and GL) once
# their installers succeed, headlessgl under xvfb-run, which gives it the X display it needs.
# Unavailable, their tests skip and say why.
export LAMINA_GPU_MODES_REQUIRED=webasm
# webgpu through Dawn, on Mesa's software Vulkan without a GPU: install-webgpu.sh prints a node
# that loads Dawn (on Debian 12 a copy linked against Debian 13's C/C++ runtimes), and the whole
# suite runs on it (same Node version) so that the webgpu tests can use it in-process.
if webgpu_node=$(bash scripts/install-webgpu.sh); then
  export PATH="$(dirname "$webgpu_node"):$PATH"
  export LAMINA_GPU_MODES_REQUIRED=$LAMINA_GPU_MODES_REQUIRED,webgpu
  # lavapipe's window-system probe complains without one
  if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d) && chmod 700 "$XDG_RUNTIME_DIR" && export XDG_RUNTIME_DIR
  fi
fi
if bash scripts/install-gl.sh; then
  export LAMINA_GPU_MODES_REQUIRED=$LAMINA_GPU_MODES_REQUIRED,headlessgl
  if [ -z "${DISPLAY:-}" ]; then
    exec xvfb-run -a npm test
  fi
fi
npm test
