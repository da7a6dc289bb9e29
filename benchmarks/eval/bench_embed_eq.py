"""The Python peer of bench_embed_eq: sentence-transformers embeds each answer set once, numpy takes
the cosine matrix, and the greedy partition (NoveltyBench src/partition.py) runs against the class
representatives. Prints one JSON object like bench_embed_eq.

Usage: python bench_embed_eq.py MODEL_DIR FILE.jsonl THRESHOLD [REPEATS] [THREADS]
"""
import json
import sys
import time

import numpy as np
import torch
from sentence_transformers import SentenceTransformer


def greedy(sim, threshold):
    reps, cls = [], []
    for i in range(sim.shape[0]):
        for k, r in enumerate(reps):
            if sim[r, i] > threshold:
                cls.append(k)
                break
        else:
            cls.append(len(reps))
            reps.append(i)
    return cls


def main():
    model_dir, path, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if len(sys.argv) > 5:
        torch.set_num_threads(int(sys.argv[5]))
    records = [json.loads(l) for l in open(path)]
    t0 = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    load = time.perf_counter() - t0
    best = float("inf")
    for _ in range(repeats):
        parts, classes = [], 0
        s = time.perf_counter()
        for r in records:
            e = model.encode(r["generations"], convert_to_numpy=True).astype(np.float64)
            e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
            p = greedy(e @ e.T, threshold)
            parts.append(p)
            classes += len(set(p))
        best = min(best, time.perf_counter() - s)
    print(json.dumps({"queries": len(records), "answers": len(records[0]["generations"]) if records else 0,
                      "threads": torch.get_num_threads(), "seconds": {"load": load, "partition": best},
                      "mean_classes": classes / max(len(records), 1), "partitions": parts}))


if __name__ == "__main__":
    main()
