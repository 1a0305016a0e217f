#!/usr/bin/env bash
# Best effort: a Node that runs GPU.js's `webgpu` mode, for the tests and `npm run bench -- --gpu`.
# The `webgpu` package (a dependency of gpu.js) is Dawn, which reaches the device through Vulkan;
# without a GPU, Mesa's software Vulkan driver (lavapipe) answers instead. So:
#  1. apt packages: libvulkan1 and mesa-vulkan-drivers (lavapipe), patchelf;
#  2. if the system's node loads Dawn and gets an adapter, that node is the answer (Ubuntu 24.04,
#     the lent GPU machine);
#  3. otherwise, where Dawn's binary needs a newer glibc and libstdc++ than the system has (it
#     needs glibc 2.38 and GLIBCXX_3.4.32; Debian 12 has 2.36 and 3.4.30): Debian 13's libc6,
#     libstdc++6 and libgcc-s1 are fetched with `apt-get download` (a private package list; nothing
#     is installed), unpacked into a cache directory, and a copy of node is pointed at them with
#     patchelf (its interpreter and RPATH). The system's node and libraries stay as they were.
# Prints that node's path as its only line on stdout (messages go to stderr).
# Exit status 0: an adapter answered; 2: it did not, and the reason was printed (the WebGPU tests
# then skip with it, unless LAMINA_GPU_MODES_REQUIRED names webgpu).
# Environment: LAMINA_GL_CACHE (the cache root shared with install-gl.sh, default
# ~/.cache/lamina), LAMINA_SKIP_WEBGPU=1 skips.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-webgpu: $*" >&2; }
give_up() {
  say "$* — WebGPU in Node stays unavailable; its tests will skip and say why"
  exit 2
}

[ "${LAMINA_SKIP_WEBGPU:-}" = 1 ] && give_up "skipped (LAMINA_SKIP_WEBGPU=1)"
[ -f node_modules/webgpu/package.json ] || give_up "node_modules/webgpu is missing (run npm ci first)"

# one JSON line from scripts/webgpu-probe.ts, run by the node given
probe() { timeout 120 "$1" --import tsx --conditions=lamina-src scripts/webgpu-probe.ts 2>/dev/null | tail -1; }
field() { node -e 'const o = JSON.parse(process.argv[1] || "{}"); console.log(o[process.argv[2]] ?? "")' "$1" "$2" 2>/dev/null; }
ready() {
  say "WebGPU ready: $(field "$2" device) ($(field "$2" description)), node $1"
  echo "$1"
  exit 0
}

# ---- 1. system packages ----
. scripts/apt-ensure.sh
apt_ensure install-webgpu libvulkan1 mesa-vulkan-drivers patchelf
case $? in
  1) say "missing system packages (${APT_MISSING[*]}) and no root apt-get to install them; trying without" ;;
  2) say "apt-get failed (log: /tmp/lamina-install-webgpu-apt.log); trying without" ;;
esac

# ---- 2. the system's node ----
system_node=$(command -v node)
answer=$(probe "$system_node")
[ "$(field "$answer" ok)" = true ] && ready "$system_node" "$answer"
reason=$(field "$answer" reason)
[ -n "$reason" ] || reason="the probe printed nothing"
case "$reason" in
  *GLIBC*) say "the system's node cannot load Dawn: ${reason:0:200}" ;;
  *) give_up "$reason" ;;
esac

# ---- 3. a node linked against Debian 13's C and C++ runtimes ----
command -v patchelf >/dev/null 2>&1 || give_up "patchelf is missing"
command -v apt-get >/dev/null 2>&1 || give_up "apt-get is missing"
suite=trixie
runtime_packages=(libc6 libstdc++6 libgcc-s1)
node_id=$(sha256sum "$system_node" | cut -c1-12)
cache="${LAMINA_GL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lamina}/webgpu-runtime-$suite-node-$node_id"
patched="$cache/node"
if [ ! -x "$patched" ]; then
  say "fetching Debian $suite's ${runtime_packages[*]} into $cache (log: /tmp/lamina-install-webgpu-runtime.log)"
  started=$SECONDS
  work="$cache.tmp.$$"
  rm -rf "$work" && mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs" "$work/root" || give_up "cannot create $work"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || give_up "no Debian archive keyring at $keyring"
  echo "deb [signed-by=$keyring] http://deb.debian.org/debian $suite main" >"$work/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/apt/lists"
    -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  if ! (timeout 300 apt-get "${apt_opts[@]}" update && cd "$work/debs" && timeout 300 apt-get "${apt_opts[@]}" download "${runtime_packages[@]}") >/tmp/lamina-install-webgpu-runtime.log 2>&1; then
    tail -5 /tmp/lamina-install-webgpu-runtime.log >&2
    rm -rf "$work"
    give_up "could not download Debian $suite's runtime packages"
  fi
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/root" || give_up "cannot unpack $deb"; done
  # the cache's final path goes into the binary, so the binary is made there
  rm -rf "$cache" && mv "$work" "$cache" || give_up "cannot move the runtime to $cache"
  lib="$cache/root/usr/lib/x86_64-linux-gnu"
  [ -f "$lib/ld-linux-x86-64.so.2" ] || { rm -rf "$cache"; give_up "Debian $suite's libc6 has no $lib/ld-linux-x86-64.so.2 (not x86-64?)"; }
  # DT_RPATH (not RUNPATH) so that it also applies to what node loads later (Dawn)
  if ! (cp "$system_node" "$patched.tmp" && patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" "$patched.tmp" && mv "$patched.tmp" "$patched"); then
    rm -rf "$cache"
    give_up "patchelf could not make $patched"
  fi
  rm -rf "$cache/apt" "$cache/debs"
  say "runtime ready in $((SECONDS - started)) s"
else
  say "using the cached node in $patched"
fi
answer=$(probe "$patched")
[ "$(field "$answer" ok)" = true ] && ready "$patched" "$answer"
reason=$(field "$answer" reason)
give_up "with Debian $suite's runtime: ${reason:-the probe printed nothing}"
