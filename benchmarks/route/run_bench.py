"""Router training speed: breadth's train_router beside the same loop written in PyTorch.

Synthetic table: 1,000 queries x 18 models, 256-d query features; each model's div-cov is a smooth
function of the features plus noise (as in tests/routing). Both sides train on the same 70% split
with the same algorithm: standardized inputs, a two-layer MLP (hidden 256), Adam lr 1e-3, batch 64,
a validation loss every epoch (best weights kept), a fixed number of epochs; the full grid
(2 hidden x 3 weight decays x 2 label types) for the 'full' rows. Prints a Markdown table.

usage: python run_bench.py BENCH_BINARY [--epochs 100] [--repeats 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from safetensors.numpy import save_file

Q, M, D = 1000, 18, 256


def make_data(tmp):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(Q, D)).astype(np.float32)
    u = rng.normal(size=(D, M))
    u /= np.linalg.norm(u, axis=0, keepdims=True)
    dc = 0.3 + 0.15 * np.tanh(2 * x.astype(np.float64) @ u) + 0.02 * rng.normal(size=(Q, M))
    dc[:, 0] += 0.04
    dc = np.clip(dc, 0, 1)
    ids = [f"q{i}" for i in range(Q)]
    with open(os.path.join(tmp, "table.jsonl"), "w") as f:
        for i in range(Q):
            for m in range(M):
                f.write(json.dumps({"query_id": ids[i], "query": f"query {i}", "model": f"model-{m}",
                                    "div_cov": dc[i, m], "unq": 40 * dc[i, m], "qual": 5.0,
                                    "unq_qual": 5.0}) + "\n")
    save_file({"agnostic": x}, os.path.join(tmp, "features.safetensors"), metadata={"query_ids": json.dumps(ids)})
    return x, dc


def split(n, seed=0):
    # Same split as breadth::split_queries (Fisher-Yates with mt19937_64, index = draw % (i+1)).
    # numpy has no mt19937_64; the split does not affect timing, so use a simple seeded permutation.
    p = np.random.default_rng(seed).permutation(n)
    return p[:700], p[700:800], p[800:]


def labels(dc, kind):
    if kind == "soft":
        mx = dc.max(1, keepdims=True)
        return np.where(mx > 0, dc / np.maximum(mx, 1e-300), 1.0).astype(np.float32)
    y = np.zeros_like(dc, dtype=np.float32)
    y[np.arange(len(dc)), dc.argmax(1)] = 1
    return y


def fit(kind, xtr, ytr, xva, yva, hidden, wd, epochs, seed):
    g = torch.Generator().manual_seed(seed)
    d, m = xtr.shape[1], ytr.shape[1]
    u = lambda shape, fan: ((torch.rand(shape, generator=g) * 2 - 1) / fan ** 0.5).requires_grad_()
    if kind == "mway_mlp":
        w1, b1, w2, b2 = u((d, hidden), d), u((hidden,), d), u((hidden, m), hidden), u((m,), hidden)
    else:
        w1, b1, w2, b2 = u((m, d, hidden), d), u((m, hidden), d), u((m, hidden), hidden), u((m,), hidden)
    params = [w1, b1, w2, b2]

    def forward(x):
        if kind == "mway_mlp":
            return torch.relu(x @ w1 + b1) @ w2 + b2
        h = (x @ w1.permute(1, 0, 2).reshape(d, m * hidden)).reshape(x.shape[0], m, hidden)
        h = torch.relu(h.permute(1, 0, 2) + b1.unsqueeze(1))
        return ((h * w2.unsqueeze(1)).sum(-1) + b2.unsqueeze(1)).t()

    def loss_of(logits, y):
        if kind == "mway_mlp":
            t = y / y.sum(1, keepdim=True).clamp_min(1e-12)
            return -(t * torch.log_softmax(logits, 1)).sum(1).mean()
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)

    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=wd)
    best, best_state = float("inf"), None
    n = xtr.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, 64):
            idx = perm[s:s + 64]
            loss = loss_of(forward(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            vl = loss_of(forward(xva), yva).item()
        if vl < best:
            best, best_state = vl, [p.detach().clone() for p in params]
    return best_state, forward


def python_train(x, dc, kind, epochs, grid, seed):
    tr, va, te = split(Q)
    xt = torch.from_numpy(x)
    mean, std = xt[tr].mean(0), xt[tr].std(0, unbiased=False)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    xs = (xt - mean) / std
    if grid == "single":
        points = [("soft" if kind == "mway_mlp" else "one_hot", 256, 0.0)]
    else:
        points = [(l, h, w) for l in ("soft", "one_hot") for h in (64, 256) for w in (0.0, 1e-4, 1e-2)]
    t0 = time.perf_counter()
    for lab, h, w in points:
        y = torch.from_numpy(labels(dc, lab))
        fit(kind, xs[tr], y[tr], xs[va], y[va], h, w, epochs, seed)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {os.cpu_count()} CPUs", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        x, dc = make_data(tmp)
        rows = []
        for kind in ("binary_mlp", "mway_mlp"):
            for grid in ("single", "full"):
                reps = a.repeats if grid == "single" else 1
                out = subprocess.run([a.binary, os.path.join(tmp, "table.jsonl"),
                                      os.path.join(tmp, "features.safetensors"), kind, str(a.epochs), grid,
                                      str(reps)], check=True, capture_output=True, text=True).stdout
                runs = [json.loads(l) for l in out.splitlines() if l.strip()]
                b = min(r["seconds"] for r in runs)
                p = min(python_train(x, dc, kind, a.epochs, grid, s) for s in range(reps))
                rows.append((kind, grid, b, p, runs[0]["test_cov"]))
        # breadth's defaults: at most 200 epochs with early stopping (patience 20) on the validation loss.
        defaults = []
        for kind in ("binary_mlp", "mway_mlp"):
            out = subprocess.run([a.binary, os.path.join(tmp, "table.jsonl"), os.path.join(tmp, "features.safetensors"),
                                  kind, "0", "full", "1"], check=True, capture_output=True, text=True).stdout
            r = json.loads(out.splitlines()[0])
            defaults.append((kind, r["seconds"], r["test_cov"], r["epochs"]))
        print(f"| router | grid | epochs | breadth (s) | PyTorch (s) | PyTorch / breadth | breadth test Cov |")
        print("|---|---|---|---|---|---|---|")
        for kind, grid, b, p, cov in rows:
            pts = 1 if grid == "single" else 12
            print(f"| {kind} | {grid} ({pts} point{'s' if pts > 1 else ''}) | {a.epochs} | {b:.2f} | {p:.2f} | "
                  f"{p / b:.2f}x | {100 * cov:.1f}% |")
        for kind, b, cov, ep in defaults:
            print(f"| {kind} | full (12 points), defaults | early stop (selected point: {ep}) | {b:.2f} | | | "
                  f"{100 * cov:.1f}% |")
        tr, va, te = split(Q)
        print(f"\n{Q} queries x {M} models, {D}-d features; best-of-{a.repeats} for single grid points.")


if __name__ == "__main__":
    main()
