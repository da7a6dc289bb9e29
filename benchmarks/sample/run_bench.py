"""Answer-set collection: breadth (bench_sample) beside transformers' generate, same run, same model.

Both sides collect B answers to one open-ended question with the router paper's generate-all prompt
(Figure 12) under the model's chat template: rounds of N samples (temperature 1, top-p 1, top-k off, at
most T new tokens, stop at EOS), each sample parsed for "content" values, until B answers are in.
breadth prefills the prompt once per round and forks the cache N ways; transformers' generate with
num_return_sequences=N prefills N copies. The samples differ (different random streams), so answers/s
depends on how chatty each side's draws were; tokens/s is the like-for-like figure.

usage: python run_bench.py BENCH_BINARY [--model GGUF] [--budget 50] [--batch 10] [--max-new-tokens 256]
                           [--threads 2] [--repeats 1]
"""
import argparse
import json
import os
import re
import subprocess
import time

# Quiet transformers' GGUF progress bars and logs: the table is the output.
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

CONTENT = re.compile(r'"content"\s*:\s*"((?:[^"\\]|\\.)*)"')


def breadth_side(binary, args, seed):
    out = subprocess.run([binary, args.model, "--budget", str(args.budget), "--batch", str(args.batch),
                          "--max-new-tokens", str(args.max_new_tokens), "--threads", str(args.threads),
                          "--seed", str(seed)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def hf_side(model, tok, prompt, args, seed):
    ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                  return_tensors="pt", return_dict=True)
    torch.manual_seed(seed)
    answers = tokens = generations = 0
    t0 = time.perf_counter()
    while answers < args.budget and generations < 4 * args.budget:
        with torch.no_grad():
            out = model.generate(**ids, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                                 max_new_tokens=args.max_new_tokens, num_return_sequences=args.batch,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
        for row in out[:, ids["input_ids"].shape[1]:]:
            row = row.tolist()
            n = len(row)
            if tok.eos_token_id in row:
                n = row.index(tok.eos_token_id) + 1
            tokens += n
            generations += 1
            text = tok.decode(row[:n], skip_special_tokens=True)
            answers += len([c for c in CONTENT.findall(text) if c.strip() and c != "Your answer here"])
    return {"seconds": time.perf_counter() - t0, "answers": min(answers, args.budget),
            "generations": generations, "tokens": tokens}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--model", default=os.path.expanduser("~/.cache/breadth/models/smollm2-135m-instruct.gguf"))
    ap.add_argument("--budget", type=int, default=50)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    prompt = json.loads(subprocess.run([args.binary, args.model, "--print-prompt"], check=True,
                                       capture_output=True, text=True).stdout)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(args.model), gguf_file=os.path.basename(args.model),
                                                 dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(os.path.dirname(args.model), gguf_file=os.path.basename(args.model))
    hf_load = time.perf_counter() - t0
    rows = []
    for r in range(args.repeats):
        b = breadth_side(args.binary, args, seed=r)
        h = hf_side(model, tok, prompt, args, seed=r)
        rows.append((b, h))
    print(f"Answer set, generate-all, B={args.budget}, batch {args.batch}, <= {args.max_new_tokens} new tokens, "
          f"T=1 top-p=1, {args.threads} threads, model {os.path.basename(args.model)} (float32)\n")
    print("| run | side | seconds | generations | tokens | answers | tokens/s | answers/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for i, (b, h) in enumerate(rows):
        for name, x in (("breadth", b), ("transformers", h)):
            print(f"| {i} | {name} | {x['seconds']:.1f} | {x['generations']} | {x['tokens']} | {x['answers']} | "
                  f"{x['tokens'] / x['seconds']:.1f} | {x['answers'] / x['seconds']:.2f} |")
    bt = sum(b["tokens"] for b, _ in rows) / sum(b["seconds"] for b, _ in rows)
    ht = sum(h["tokens"] for _, h in rows) / sum(h["seconds"] for _, h in rows)
    ba = sum(b["answers"] for b, _ in rows) / sum(b["seconds"] for b, _ in rows)
    ha = sum(h["answers"] for _, h in rows) / sum(h["seconds"] for _, h in rows)
    print(f"\ntokens/s breadth / transformers = {bt / ht:.2f}x; answers/s ratio = {ba / ha:.2f}x")
    print(f"load: breadth {rows[0][0]['load_seconds']:.1f} s, transformers {hf_load:.1f} s")


if __name__ == "__main__":
    main()
