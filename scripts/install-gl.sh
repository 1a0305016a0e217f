#!/usr/bin/env bash
# Best effort: makes GPU.js's `headlessgl` mode usable on Debian/Ubuntu.
#  1. apt packages: Xvfb + xauth (xvfb-run gives headless-gl the X display it needs), Mesa's
#     software GL (llvmpipe) and the headers `gl` compiles against (libxi-dev, libglew-dev, …);
#  2. the optional `gl` package (gpu.js's optionalDependency) built from source with node-gyp.
#     Left to `npm ci`, its install script runs `prebuild-install || node-gyp rebuild`: the
#     prebuild download (GitHub) is unreachable here, and the gyp step either fails (without
#     libxi-dev; npm then silently deletes `gl`) or compiles for minutes on every fresh
#     node_modules. So scripts/ensure-deps.sh passes --ignore-scripts, and the build happens
#     here instead, once, in a cache directory outside node_modules (keyed on the gl version and the
#     Node ABI), and the result is copied into node_modules/gl with its few runtime dependencies
#     nested under it, leaving the rest of the tree untouched.
# Idempotent and quick when already done (a few seconds). Exit status 0: headlessgl is ready
# (a context was created under xvfb-run); 2: it is not, and the reason was printed (the
# headlessgl tests then skip with it). No other exit status: a caller under `set -e` should
# still treat 2 as a note, not a failure (scripts/test.sh does).
# Environment: LAMINA_GL_CACHE (the build cache, default ~/.cache/lamina), LAMINA_SKIP_GL=1 skips.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-gl: $*"; }
give_up() {
  say "$* — headlessgl stays unavailable; its tests will skip and say why"
  exit 2
}

[ "${LAMINA_SKIP_GL:-}" = 1 ] && give_up "skipped (LAMINA_SKIP_GL=1)"
[ -f node_modules/gpu.js/package.json ] || give_up "node_modules/gpu.js is missing (run npm ci first)"

gl_version=$(node -p "require('./node_modules/gpu.js/package.json').optionalDependencies?.gl ?? ''") || gl_version=
[ -n "$gl_version" ] || give_up "gpu.js declares no optional gl dependency"

# loads gl the way gpu.js does (resolved from gpu.js's directory) and checks its version
gl_loads() {
  node -e "
    const gl = require(require.resolve('gl', { paths: [require('path').resolve('node_modules/gpu.js')] }))
    const v = require(require.resolve('gl/package.json', { paths: [require('path').resolve('node_modules/gpu.js')] })).version
    if (typeof gl !== 'function' || v !== process.argv[1]) process.exit(1)
  " "$gl_version" >/dev/null 2>&1
}
# creates a real context under Xvfb and prints its renderer
gl_renders() {
  xvfb-run -a node -e "
    const gl = require(require.resolve('gl', { paths: [require('path').resolve('node_modules/gpu.js')] }))(2, 2)
    if (!gl) { console.error('gl(2, 2) returned null'); process.exit(1) }
    console.log(gl.getParameter(gl.VERSION) + ' on ' + gl.getParameter(gl.RENDERER))
  " 2>&1
}

# ---- 1. system packages ----
. scripts/apt-ensure.sh
apt_ensure install-gl xvfb xauth pkg-config libx11-dev libxext-dev libxi-dev libglew-dev libgl1-mesa-dri libglx-mesa0 libegl1 python3 make g++
case $? in
  1) give_up "missing system packages (${APT_MISSING[*]}) and no root apt-get to install them" ;;
  2) give_up "apt-get failed (log: /tmp/lamina-install-gl-apt.log)" ;;
esac

# ---- 2. the gl package ----
if gl_loads; then
  say "gl@$gl_version already in node_modules"
else
  abi=$(node -p 'process.versions.modules + "-" + process.platform + "-" + process.arch')
  cache="${LAMINA_GL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lamina}/gl-$gl_version-node-$abi"
  if [ ! -f "$cache/node_modules/gl/build/Release/webgl.node" ]; then
    say "building gl@$gl_version from source into $cache (a few minutes; log: /tmp/lamina-install-gl-build.log)"
    started=$SECONDS
    work="$cache.tmp.$$"
    rm -rf "$work" && mkdir -p "$work" || give_up "cannot create $work"
    printf '{ "name": "lamina-gl-build", "private": true, "dependencies": { "gl": "%s" } }\n' "$gl_version" >"$work/package.json"
    # Node's own headers when the system has them: node-gyp would otherwise download them
    node_prefix=$(dirname "$(dirname "$(command -v node)")")
    nodedir_flag=()
    [ -f "$node_prefix/include/node/node.h" ] && nodedir_flag=(--nodedir="$node_prefix")
    # --ignore-scripts: skip prebuild-install's GitHub download (unreachable, or slow to fail)
    if ! (cd "$work" && timeout 600 npm install --ignore-scripts --no-audit --no-fund --no-package-lock &&
      cd node_modules/gl && JOBS=max timeout 1500 ../.bin/node-gyp rebuild "${nodedir_flag[@]}") >/tmp/lamina-install-gl-build.log 2>&1; then
      grep -E 'ERR!|error|Error' /tmp/lamina-install-gl-build.log | head -8
      rm -rf "$work"
      give_up "building gl failed (log: /tmp/lamina-install-gl-build.log)"
    fi
    rm -rf "$cache" && mv "$work" "$cache" || give_up "cannot move the build to $cache"
    say "gl built in $((SECONDS - started)) s"
  else
    say "using the cached build in $cache"
  fi
  # gl itself (sources, package.json, the addon) plus its runtime dependencies nested under it
  runtime_deps=$(node -e "
    const seen = new Set(), root = process.argv[1] + '/node_modules/'
    const walk = (name) => { for (const d of Object.keys(require(root + name + '/package.json').dependencies ?? {})) if (!seen.has(d)) { seen.add(d); walk(d) } }
    for (const d of ['bindings', 'bit-twiddle', 'glsl-tokenizer']) { seen.add(d); walk(d) }
    console.log([...seen].join(' '))
  " "$cache") || give_up "cannot read gl's dependencies in $cache"
  copy_gl() {
    rm -rf node_modules/gl.tmp node_modules/gl && mkdir -p node_modules/gl.tmp/build/Release node_modules/gl.tmp/node_modules || return 1
    cp -a "$cache/node_modules/gl/package.json" "$cache/node_modules/gl/index.js" "$cache/node_modules/gl/LICENSES" "$cache/node_modules/gl/src" node_modules/gl.tmp/ || return 1
    rm -rf node_modules/gl.tmp/src/native
    cp -a "$cache/node_modules/gl/build/Release/webgl.node" node_modules/gl.tmp/build/Release/ || return 1
    for d in $runtime_deps; do
      mkdir -p "node_modules/gl.tmp/node_modules/$(dirname "$d")" && cp -a "$cache/node_modules/$d" "node_modules/gl.tmp/node_modules/$d" || return 1
    done
    mv node_modules/gl.tmp node_modules/gl
  }
  copy_gl || give_up "copying gl into node_modules failed"
  gl_loads || give_up "gl was built but does not load from node_modules/gpu.js"
  say "gl@$gl_version installed into node_modules/gl"
fi

# ---- 3. proof: a context on Xvfb ----
if renderer=$(gl_renders); then
  say "headlessgl ready: $renderer (run GPU.js code under xvfb-run -a)"
else
  give_up "gl loads but no context could be created under xvfb-run: $renderer"
fi
