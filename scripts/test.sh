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
# webasm must run everywhere; headlessgl (GPU.js on Mesa's software GL) once the gl package is
# built, then under xvfb-run, which gives it the X display it needs. Unavailable, its tests skip
# and say why.
export LAMINA_GPU_MODES_REQUIRED=webasm
if bash scripts/install-gl.sh; then
  export LAMINA_GPU_MODES_REQUIRED=webasm,headlessgl
  if [ -z "${DISPLAY:-}" ]; then
    exec xvfb-run -a npm test
  fi
fi
npm test
