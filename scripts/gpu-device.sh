#!/usr/bin/env bash
# Runs on the lent GPU machine, from the repo root with `.gpu/` carried (made by
# scripts/gpu-carry.sh): unpacks Node, the loader libraries and the bundled bench, then runs
# the PyTorch reference of the same work, then `bench --gpu --json --pytorch …` (arguments are
# passed on to both, e.g. --quick). Everything printed is also written under $OUT (env.txt, pytorch.txt, bench-gpu.txt).
# LAMINA_DEVICE_NODE overrides the node to use (to try this script on a machine whose own node
# loads Dawn, e.g. the one scripts/install-webgpu.sh prints); LAMINA_DEVICE_SKIP_LOADERS=1 leaves
# the system's libraries alone (the loader packages are unpacked into / otherwise).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-$(mktemp -d)}
[ -f .gpu/payload.tar.xz ] || { echo "gpu-device: .gpu/payload.tar.xz is missing: run scripts/gpu-carry.sh here and carry .gpu" >&2; exit 2; }
if [ "${LAMINA_DEVICE_SKIP_LOADERS:-}" != 1 ] && [ "$(id -u)" = 0 ] && ls .gpu/*.deb >/dev/null 2>&1; then
  for f in .gpu/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
d=$(mktemp -d)
if [ -n "${LAMINA_DEVICE_NODE:-}" ]; then
  ln -s "$LAMINA_DEVICE_NODE" "$d/node"
else
  xz -dc .gpu/node.xz >"$d/node" && chmod +x "$d/node"
fi
tar -C "$d" -xJf .gpu/payload.tar.xz
[ -n "${XDG_RUNTIME_DIR:-}" ] || { XDG_RUNTIME_DIR=$(mktemp -d) && chmod 700 "$XDG_RUNTIME_DIR" && export XDG_RUNTIME_DIR; }
{
  date -u
  "$d/node" --version
  nvidia-smi -L 2>&1 || echo "no nvidia-smi"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv 2>&1 || true
} | tee "$out/env.txt"
# PyTorch first (seconds), so that the bench's ratios are against figures of this machine and call
torch_args=()
if command -v python3 >/dev/null 2>&1 && python3 -c 'import torch' >/dev/null 2>&1; then
  python3 .gpu/pytorch-reference.py "$@" 2>&1 | tee "$out/pytorch.txt"
  tail -1 "$out/pytorch.txt" >"$d/pytorch.json" && torch_args=(--pytorch "$d/pytorch.json")
else
  echo "gpu-device: no PyTorch here; the bench quotes ../shared/GPU-MACHINE.md's figures" | tee "$out/pytorch.txt"
fi
(cd "$d" && ./node bench.mjs --gpu --json "${torch_args[@]}" "$@") 2>&1 | tee "$out/bench-gpu.txt"
exit "${PIPESTATUS[0]}"
