"""Seeds for the experiment-file fuzz target: valid experiment files of every method kind (the shapes
tests/experiment/test_experiment_file.cpp parses), and a few near misses. Paths are relative to the
scratch folder the target makes (a `ckpt` folder and `prompts.jsonl`).

usage: make_experiment_seeds.py <outdir>   ->  outdir/*.json
"""
import json
import os
import shutil
import sys

out = sys.argv[1]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
models = {"m": "ckpt", "b": {"path": "ckpt", "dtype": "bfloat16"}}
methods = [
    {"name": "aligned", "kind": "sample", "model": "m", "temperature": [0.5, 1.0]},
    {"name": "baco", "kind": "baco", "base": "b", "aligned": "m", "gamma": [0.3, 0.6]},
    {"name": "le", "kind": "logit_ensemble", "base": "b", "aligned": "m", "w": 0.25},
    {"name": "dbs", "kind": "diverse_beam", "model": "m", "groups": 2, "penalty": [0, 0.5]},
]
full = {"prompts": "prompts.jsonl", "n": 4, "max_new_tokens": 8, "seed": 3, "models": models, "methods": methods,
        "evaluate": {"metrics": ["distinct_2", "self_bleu"], "anchors": {"base": "baco@0.3", "aligned": "aligned@1.0"}}}
seeds = {
    "full": full,
    "minimal": {"prompts": "prompts.jsonl", "models": {"m": "ckpt"}, "methods": [methods[0]]},
    "each_kind": {"prompts": "prompts.jsonl", "models": models, "methods": methods[1:]},
    "unknown_key": dict(full, extra=1),
    "bad_type": dict(full, n="four"),
}
for name, j in seeds.items():
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(j, f, indent=1)
with open(os.path.join(out, "truncated.json"), "w") as f:
    f.write(json.dumps(full)[:120])
print(f"{len(seeds) + 1} experiment seeds in {out}")
