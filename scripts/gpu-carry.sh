#!/usr/bin/env bash
# Prepares `.gpu/` (git-ignored) for the lent GPU machine (../shared/GPU-MACHINE.md), which has
# no Node, no Vulkan/GLVND loader libraries and no network, and takes at most 64 MiB of carried
# files. Then one device call runs the GPU benchmark:
#   run(command: "bash scripts/gpu-device.sh", carry: [".gpu"])          # the full --gpu run
#   run(command: "bash scripts/gpu-device.sh --quick", carry: [".gpu"])  # small sizes, a smoke run
# What goes in .gpu/:
#   node.xz          this machine's node binary, xz-compressed (~24 MB)
#   *.deb            the loader libraries (libvulkan1, GLVND), unpacked there by gpu-device.sh
#   payload.tar.xz   bench.mjs (bench/index.ts bundled with esbuild: lamina, gpu.js, TensorFlow.js)
#                    and node_modules/webgpu with only its linux-x64 Dawn binary
#   pytorch-reference.py  the PyTorch figures of the same work, measured in the same call
# Re-run after changing lamina, the bench or its dependencies (the bundle is a snapshot).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "gpu-carry: $*" >&2; }
mkdir -p .gpu
node_bin=$(command -v node)
if [ ! -f .gpu/node.xz ] || [ "$(cat .gpu/node.sha256 2>/dev/null)" != "$(sha256sum "$node_bin" | cut -c1-64)" ]; then
  say "compressing $node_bin"
  xz -T2 -c "$node_bin" >.gpu/node.xz.tmp && mv .gpu/node.xz.tmp .gpu/node.xz
  sha256sum "$node_bin" | cut -c1-64 >.gpu/node.sha256
fi
loaders=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
if ! ls .gpu/libvulkan1_*.deb >/dev/null 2>&1; then
  say "downloading ${loaders[*]}"
  (cd .gpu && apt-get -o APT::Sandbox::User=root download "${loaders[@]}" >/dev/null)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "bundling bench/index.ts"
node_modules/.bin/esbuild bench/index.ts --bundle --platform=node --format=esm --target=node20 --conditions=lamina-src \
  --external:webgpu --external:gl --log-level=warning --outfile="$work/bench.mjs" \
  --banner:js="import { createRequire as __laminaRequire } from 'node:module'; const require = __laminaRequire(import.meta.url);"
mkdir -p "$work/node_modules/webgpu/dist"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$work/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64.dawn.node "$work/node_modules/webgpu/dist/"
tar -C "$work" -cJf .gpu/payload.tar.xz.tmp bench.mjs node_modules && mv .gpu/payload.tar.xz.tmp .gpu/payload.tar.xz
cp scripts/pytorch-reference.py .gpu/pytorch-reference.py
total=$(du -cb .gpu/node.xz .gpu/*.deb .gpu/payload.tar.xz .gpu/pytorch-reference.py | tail -1 | cut -f1)
say "$(du -ch .gpu/node.xz .gpu/*.deb .gpu/payload.tar.xz | tail -1 | cut -f1) in .gpu/ ($total bytes; the carry limit is 64 MiB with the working tree)"
[ "$total" -lt $((56 * 1024 * 1024)) ] || { say "too big to carry"; exit 1; }
