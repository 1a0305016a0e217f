"""PyTorch's figures for the work of `npm run bench -- --gpu`, measured in the same device call.

W1: 8 chained n x n float32 products (TF32 off), GFLOP/s. MLP: one SGD training step of
784-1024-1024-10 (ReLU, softmax cross-entropy) at batch 8192, samples/s. Medians of 5 timed
runs after 2 warm-up runs, with min and max; the last line is one JSON object.
Run by scripts/gpu-device.sh on the lent GPU machine; `--quick` uses the bench's small sizes.
"""
import json
import statistics
import sys
import time

import torch

QUICK = "--quick" in sys.argv
CHAIN = 8
SIZES = [64, 128, 256] if QUICK else [1024, 2048, 4096]
MLP = dict(inp=784, hidden=64 if QUICK else 1024, out=10, batch=128 if QUICK else 8192, lr=0.01)

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def timed(fn, warmup=2, reps=5):
    for _ in range(warmup):
        fn()
    if dev.type == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), min(times), max(times)


def figure(ms_triple, per):
    med, lo, hi = ms_triple
    a, b = per(lo), per(hi)
    return {"value": per(med), "low": min(a, b), "high": max(a, b), "reps": 5}


gen = torch.Generator(device="cpu").manual_seed(0)
w1 = {}
for n in SIZES:
    a = ((torch.rand(n, n, generator=gen) * 2 - 1) * (3 / n) ** 0.5).to(dev)
    b = ((torch.rand(n, n, generator=gen) * 2 - 1) * (3 / n) ** 0.5).to(dev)

    def chain():
        c = a @ b
        for _ in range(CHAIN - 1):
            c = c @ b
        return c

    w1[n] = figure(timed(chain), lambda ms: CHAIN * 2 * n**3 / (ms * 1e6))

model = torch.nn.Sequential(
    torch.nn.Linear(MLP["inp"], MLP["hidden"]), torch.nn.ReLU(),
    torch.nn.Linear(MLP["hidden"], MLP["hidden"]), torch.nn.ReLU(),
    torch.nn.Linear(MLP["hidden"], MLP["out"]),
).to(dev)
opt = torch.optim.SGD(model.parameters(), lr=MLP["lr"])
x = torch.randn(MLP["batch"], MLP["inp"], generator=gen).to(dev)
y = (torch.arange(MLP["batch"]) * 7 + 3).remainder(MLP["out"]).to(dev)
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


mlp = figure(timed(step), lambda ms: MLP["batch"] * 1000 / ms)
name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
print(f"PyTorch {torch.__version__} on {name}, float32 (TF32 off)")
for n, f in w1.items():
    print(f"  W1 n={n}: {f['value']:.0f} GFLOP/s ({f['low']:.0f}-{f['high']:.0f})")
print(f"  MLP {MLP['inp']}-{MLP['hidden']}-{MLP['hidden']}-{MLP['out']} b={MLP['batch']}: {mlp['value']:.0f} samples/s ({mlp['low']:.0f}-{mlp['high']:.0f})")
print(json.dumps({"torch": torch.__version__, "device": name, "quick": QUICK, "W1_gflops": {str(n): f for n, f in w1.items()}, "MLP_samples_per_s": mlp, "mlp": MLP}))
