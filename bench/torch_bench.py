"""PyTorch column for `npm run bench`: the same workloads on one CPU thread, printed as JSON.

Usage: torch_bench.py CONFIG.json. The config names the nets, sizes, timing budget and the raw
float32/int32 files holding the exact batches and matrices the other columns use.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)  # single-thread figures, comparable with our one-thread engine


def measure(run, budget_ms, warmup_ms, repeats):
    # Same rule as bench/common.ts: doubling warm-up that calibrates, then the median of repeats.
    n, spent = 1, 0.0
    while True:
        t0 = time.perf_counter()
        run(n)
        dt = (time.perf_counter() - t0) * 1000
        spent += dt
        per_iter = dt / n
        if spent >= warmup_ms:
            break
        n *= 2
    if per_iter * repeats > 2 * budget_ms:
        repeats = 3
    iters = max(1, round(budget_ms / repeats / per_iter))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(iters)
        samples.append(iters / (time.perf_counter() - t0))
    return {"perSec": statistics.median(samples), "iters": iters, "repeats": repeats, "samples": samples}


def load(path, dtype, shape):
    return torch.from_numpy(np.fromfile(path, dtype=dtype).reshape(shape))


class Hidden(torch.nn.Module):
    """A hidden layer with the engine's block extras (src/engine/nn/mlp.ts), in the same order:
    pre x + act(W·norm(x)), mid x + act(norm(W·x)), post norm(x + act(W·x)); dropout on act(…)."""

    def __init__(self, n_in, n_out, activation, block):
        super().__init__()
        self.linear = torch.nn.Linear(n_in, n_out)
        self.act = activation()
        self.at = block.get("normAt", "mid")
        width = n_in if self.at == "pre" else n_out
        norm = {"none": None, "batch": torch.nn.BatchNorm1d, "layer": torch.nn.LayerNorm}[block.get("norm", "none")]
        self.norm = norm(width) if norm else None
        p = block.get("dropout", 0)
        self.drop = torch.nn.Dropout(p) if p > 0 else None
        self.residual = block.get("residual", False)

    def forward(self, x):
        h = self.norm(x) if self.norm is not None and self.at == "pre" else x
        h = self.linear(h)
        if self.norm is not None and self.at == "mid":
            h = self.norm(h)
        h = self.act(h)
        if self.drop is not None:
            h = self.drop(h)
        if self.residual:
            h = x + h
        if self.norm is not None and self.at == "post":
            h = self.norm(h)
        return h


def build_mlp(spec):
    sizes = spec["sizes"]
    activation = torch.nn.Tanh if spec["activation"] == "tanh" else torch.nn.ReLU
    blocks = spec.get("blocks")
    layers = []
    for i in range(len(sizes) - 1):
        if i + 2 < len(sizes) and blocks:
            layers.append(Hidden(sizes[i], sizes[i + 1], activation, blocks[i]))
            continue
        # Plain nets stay a flat Sequential, as before the lab's blocks existed.
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(activation())
    return torch.nn.Sequential(*layers)


def bench_mlp(spec, timing):
    torch.manual_seed(1)
    sizes = spec["sizes"]
    model = build_mlp(spec)  # in train mode: BatchNorm uses the batch's statistics, as ours does
    if spec.get("optimizer") == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=spec["lr"])
    x = load(spec["x"], np.float32, (spec["batch"], sizes[0]))
    y = load(spec["labels"], np.int32, (spec["batch"],)).long()
    last = [float("nan")]

    def run(n):
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        last[0] = loss.item()

    steps = measure(run, **timing)
    return {"steps": steps, "loss": last[0]}


def bench_matmul(m, timing):
    n = m["n"]
    a = load(m["a"], np.float32, (n, n))
    b = load(m["b"], np.float32, (n, n))

    def run(k):
        with torch.no_grad():
            for _ in range(k):
                torch.mm(a, b)

    return measure(run, **timing)


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    timing = cfg["timing"]
    out = {
        "version": torch.__version__,
        # Debian's torch has BLAS_INFO=generic: its matmul speed is whatever libblas.so.3 points to.
        "blas": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "threads": torch.get_num_threads(),
        "train": [bench_mlp(s, timing) for s in cfg["mlps"]],
        "matmul": [bench_matmul(m, timing) for m in cfg["matmuls"]],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
