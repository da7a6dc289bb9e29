"""A small experiment end to end: `breadth run` beside the same job as a Python script, in one run.

The experiment: NoveltyBench curated prompts, n answers each, SmolLM2-135M-Instruct (the GGUF setup.sh
unpacks) sampled under its chat template at two temperatures (top-p 0.9), every answer set partitioned
with NoveltyBench's unigram shortcut and ROUGE-1 fallback, scored with constant quality, utility and
Distinct-2, files written in NoveltyBench's layout.

Two figures:
  * the runner's own overhead: `breadth run`'s wall time against the generation time it reports
    (timing.json: the seconds inside the decoders, model loading included) — evaluation, file I/O,
    summaries and the report are the rest (goal: under 10%);
  * the same experiment as a Python script: transformers' generate (num_return_sequences = n, the
    GGUF loaded with gguf_file=) and NoveltyBench's evaluation logic (src/partition.py's shortcut and
    rouge-score, utility with patience 0.8), timed the same way, as a ratio.
The answers differ (different random streams); token counts are printed so that the work compares.

usage: python run.py BREADTH_BINARY [--model GGUF] [--prompts JSONL] [--limit 10] [--n 5]
                     [--max-new-tokens 48] [--threads 2]
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CACHE = os.environ.get("BREADTH_CACHE", os.path.expanduser("~/.cache/breadth"))
TEMPERATURES = [0.7, 1.0]


def breadth_side(binary, args, tmp):
    exp = {"prompts": args.prompts, "limit": args.limit, "n": args.n, "max_new_tokens": args.max_new_tokens,
           "seed": 1, "batch_size": args.limit, "models": {"smol": args.model},
           "methods": [{"name": "aligned", "kind": "sample", "model": "smol", "temperature": TEMPERATURES,
                        "top_p": 0.9}],
           "evaluate": {"equivalence": "noveltybench-shortcut", "quality": "const:1", "metrics": ["distinct_2"]}}
    path = os.path.join(tmp, "experiment.json")
    with open(path, "w") as f:
        json.dump(exp, f)
    out = os.path.join(tmp, "breadth-run")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    t0 = time.perf_counter()
    subprocess.run([binary, "run", path, "--out", out, "--quiet"], check=True, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    timing = json.load(open(os.path.join(out, "timing.json")))
    gen = sum(p["seconds"] for p in timing.values())
    tokens = sum(p["tokens"] for p in timing.values())
    return wall, gen, tokens


# --- NoveltyBench's evaluation logic (src/partition.py, src/score.py), as a Python pipeline would run it.
def _unigram_shortcut(a, b):
    wa, wb = a.lower().strip().split(), b.lower().strip().split()
    if max(len(wa), len(wb)) > 5:
        return None
    return 2 * len(set(wa) & set(wb)) >= max(len(wa), len(wb))


def partition(answers, scorer):
    reps, classes = [], []
    for i, a in enumerate(answers):
        for c, r in enumerate(reps):
            eq = _unigram_shortcut(answers[r], a)
            if eq is None:
                eq = scorer.score(answers[r], a)["rouge1"].fmeasure > 0.458
            if eq:
                classes.append(c)
                break
        else:
            reps.append(i)
            classes.append(len(reps) - 1)
    return classes


def utility(partition_ids, quality, patience=0.8):
    seen, g = set(), []
    for c, q in zip(partition_ids, quality):
        g.append(q if c not in seen else 0)
        seen.add(c)
    w = [patience ** i for i in range(len(g))]
    return sum(a * b for a, b in zip(w, g)) / sum(w)


def distinct_2(answers):
    grams = [tuple(t[i:i + 2]) for a in answers for t in [a.split()] for i in range(len(t) - 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def python_side(args, tmp):
    import torch
    from rouge_score import rouge_scorer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    d, f = os.path.dirname(args.model), os.path.basename(args.model)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    prompts = [json.loads(line) for line in open(args.prompts) if line.strip()][: args.limit]
    gen_seconds, tokens = time.perf_counter() - t0, 0
    scorer = rouge_scorer.RougeScorer(["rouge1"])
    out = os.path.join(tmp, "python-run")
    for t in TEMPERATURES:
        d = os.path.join(out, f"aligned@{t}")
        os.makedirs(d, exist_ok=True)
        g0 = time.perf_counter()
        rows = []
        for p in prompts:
            ids = tok.apply_chat_template([{"role": "user", "content": p["prompt"]}], add_generation_prompt=True,
                                          return_tensors="pt", return_dict=True)
            with torch.no_grad():
                o = model.generate(**ids, do_sample=True, temperature=t, top_p=0.9, top_k=0,
                                   max_new_tokens=args.max_new_tokens, num_return_sequences=args.n,
                                   pad_token_id=tok.pad_token_id or tok.eos_token_id)
            new = o[:, ids["input_ids"].shape[1]:]
            tokens += int((new != (tok.pad_token_id or tok.eos_token_id)).sum())
            rows.append({"id": p["id"], "prompt": p["prompt"], "model": f"aligned@{t}",
                         "generations": tok.batch_decode(new, skip_special_tokens=True)})
        gen_seconds += time.perf_counter() - g0
        with open(os.path.join(d, "generations.jsonl"), "w") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
        scores = []
        for r in rows:
            part = partition(r["generations"], scorer)
            q = [1.0] * len(part)
            scores.append({**r, "partition": part, "distinct": max(part), "utility": utility(part, q),
                           "distinct_2": distinct_2(r["generations"])})
        with open(os.path.join(d, "scores.jsonl"), "w") as fh:
            for s in scores:
                fh.write(json.dumps(s) + "\n")
        with open(os.path.join(d, "summary.json"), "w") as fh:
            json.dump({"mean_distinct": sum(s["distinct"] for s in scores) / len(scores),
                       "mean_utility": sum(s["utility"] for s in scores) / len(scores)}, fh)
    return time.perf_counter() - t0, gen_seconds, tokens


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--model", default=os.path.join(CACHE, "models", "smollm2-135m-instruct.gguf"))
    ap.add_argument("--prompts", default=os.path.join(ROOT, "..", "shared", "data", "noveltybench", "curated.jsonl"))
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--n", type=int, default=5)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    args.prompts = os.path.abspath(args.prompts)
    tmp = tempfile.mkdtemp(prefix="bench-experiment-")
    try:
        bw, bg, bt = breadth_side(args.binary, args, tmp)
        pw, pg, pt = python_side(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"experiment: {args.limit} prompts x n = {args.n}, {len(TEMPERATURES)} points, {args.max_new_tokens} tokens, "
          f"{args.threads} threads, {os.path.basename(args.model)}")
    print("| | wall s | generation s | runner overhead | tokens |")
    print("|---|---:|---:|---:|---:|")
    print(f"| breadth run | {bw:.2f} | {bg:.2f} | {100 * (bw - bg) / bw:.1f}% | {bt} |")
    print(f"| Python (transformers + NoveltyBench logic) | {pw:.2f} | {pg:.2f} | {100 * (pw - pg) / pw:.1f}% | {pt} |")
    print(f"| ratio (Python / breadth wall) | {pw / bw:.2f}x | | | |")


if __name__ == "__main__":
    main()
