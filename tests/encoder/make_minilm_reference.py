"""sentence-transformers' all-MiniLM-L6-v2 embeddings of real NoveltyBench generations, and the greedy
embedding-equivalence partitions they imply (the reference for tests/encoder/test_minilm.cpp).

Usage: python make_minilm_reference.py OUTDIR

Reads the weights from $BREADTH_MODELS_DIR/all-minilm-l6-v2 (offline) and the generations from
$BREADTH_SHARED_DIR/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl. Writes OUTDIR/minilm.json:
  texts [N], embeddings [N][384] (float32 values as JSON doubles), sets [[answer indices]...],
  threshold, partitions [[class id per answer]...]
The threshold is the first of a few candidates that no pair's cosine comes within 1e-4 of (so that
float rounding cannot flip a decision) and that splits the sets into more than one class but fewer
than all.
"""

import json
import os
import sys

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

QUERIES = 6


def greedy_partition(sim, threshold):
    """NoveltyBench src/partition.py: each answer joins the first class whose first member it matches."""
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


def main(out):
    os.makedirs(out, exist_ok=True)
    models = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))
    shared = os.environ.get("BREADTH_SHARED_DIR", "../shared")
    path = os.path.join(models, "all-minilm-l6-v2")
    sets, texts = [], []
    with open(os.path.join(shared, "data", "noveltybench", "gemini-1.5-pro-curated-scores.jsonl")) as f:
        for line in f:
            gens = json.loads(line)["generations"]
            sets.append(list(range(len(texts), len(texts) + len(gens))))
            texts.extend(gens)
            if len(sets) == QUERIES:
                break
    # A few hand-made near-duplicates so that some classes have several members.
    extra = ["Blue.", "blue", "The answer is blue.", "Red", "It is definitely red!", "Green is my choice."]
    sets.append(list(range(len(texts), len(texts) + len(extra))))
    texts.extend(extra)

    torch.manual_seed(0)
    model = SentenceTransformer(path, device="cpu")
    emb = model.encode(texts, convert_to_numpy=True, batch_size=16).astype(np.float32)

    chosen = None
    for t in (0.8, 0.75, 0.7, 0.85, 0.65, 0.6, 0.9):
        ok, classes, total = True, 0, 0
        parts = []
        for s in sets:
            e = emb[s].astype(np.float64)
            e = e / np.linalg.norm(e, axis=1, keepdims=True)
            sim = e @ e.T
            if np.any(np.abs(sim - t) < 1e-4):
                ok = False
                break
            p = greedy_partition(sim, t)
            parts.append(p)
            classes += len(set(p))
            total += len(p)
        if ok and len(sets) < classes < total:
            chosen = (t, parts)
            break
    assert chosen is not None, "no threshold gives a safe, non-trivial partition"
    with open(os.path.join(out, "minilm.json"), "w") as f:
        json.dump({"texts": texts, "embeddings": emb.tolist(), "sets": sets, "threshold": chosen[0],
                   "partitions": chosen[1], "max_seq_length": model.max_seq_length}, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
