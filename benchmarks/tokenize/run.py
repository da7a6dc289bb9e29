"""Tokenizer encoding throughput: breadth (C++, one thread) beside Hugging Face tokenizers (Rust via
Python; one encode() per line on one thread, and encode_batch on all cores) in the same run.

usage: run.py BENCH_TOKENIZE_EXE [--mb 4] [--repeats 3]

The text (a few MB) is assembled from the test corpus sources (NoveltyBench prompts, gettext
catalogs, source code; see tests/tokenizer/make_tokenizer_refs.py), repeated with shuffling.
Token counts of both sides are compared, so a speed figure never comes from a wrong encoding.
"""
import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("BREADTH_SHARED_DIR", os.path.join(ROOT, "..", "shared"))
MODELS = os.environ.get("BREADTH_MODELS_DIR", os.path.expanduser("~/.cache/breadth/models"))


def load_corpus_builder():
    spec = importlib.util.spec_from_file_location("refs", os.path.join(ROOT, "tests", "tokenizer", "make_tokenizer_refs.py"))
    mod = importlib.util.module_from_spec(spec)
    argv = sys.argv
    sys.argv = [argv[0], tempfile.mkdtemp()]
    spec.loader.exec_module(mod)
    sys.argv = argv
    return mod.build_corpus


def reference(name, path):
    from tokenizers import Tokenizer
    if name == "smollm2_gguf":
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path)).backend_tokenizer
    t = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
    t.no_padding()
    t.no_truncation()
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--mb", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lines-per-call", type=int, default=1, help="join this many lines into one encode call")
    args = ap.parse_args()

    lines = [l.replace("\r", " ").replace("\n", " ") for l in load_corpus_builder()()]
    rng = random.Random(0)
    text_lines, size = [], 0
    while size < args.mb * 1e6:
        rng.shuffle(lines)
        for l in lines:
            text_lines.append(l)
            size += len(l.encode("utf-8"))
    text_path = os.path.join(tempfile.mkdtemp(), "bench.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write("\n".join(text_lines) + "\n")
    k = args.lines_per_call
    text_lines = ["\n".join(text_lines[i:i + k]) for i in range(0, len(text_lines), k)]
    nbytes = sum(len(l.encode("utf-8")) for l in text_lines)

    cases = [(n, os.path.join(SHARED, "data", "tokenizers", n)) for n in ("qwen3", "llama3_1", "llama2")]
    cases.append(("minilm", os.path.join(MODELS, "all-minilm-l6-v2")))
    gguf = os.path.join(MODELS, "smollm2-135m-instruct.gguf")
    if os.path.exists(gguf):
        cases.append(("smollm2_gguf", gguf))

    print(f"text: {nbytes / 1e6:.2f} MB in {len(text_lines)} encode calls ({k} line(s) each); "
          f"machine: {os.cpu_count()} CPU cores")
    print(f"{'tokenizer':14} {'breadth MB/s':>13} {'HF 1-thread':>12} {'ratio':>7} {'HF batch':>9} {'ratio':>7}  tokens")
    rows = []
    for name, path in cases:
        out = subprocess.run([args.exe, path, text_path, str(args.repeats), str(k)], capture_output=True, text=True, check=True)
        ours = json.loads(out.stdout)
        ref = reference(name, path)
        ref_tokens = sum(len(e.ids) for e in ref.encode_batch(text_lines, add_special_tokens=False))  # warm-up
        best_single = best_batch = 1e30
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for l in text_lines:
                ref.encode(l, add_special_tokens=False)
            best_single = min(best_single, time.perf_counter() - t0)
            t0 = time.perf_counter()
            ref.encode_batch(text_lines, add_special_tokens=False)
            best_batch = min(best_batch, time.perf_counter() - t0)
        single, batch = nbytes / 1e6 / best_single, nbytes / 1e6 / best_batch
        same = "same" if ref_tokens == ours["tokens"] else f"DIFFER ({ours['tokens']} vs {ref_tokens})"
        print(f"{name:14} {ours['mb_per_s']:13.2f} {single:12.2f} {ours['mb_per_s'] / single:7.2f} {batch:9.2f} "
              f"{ours['mb_per_s'] / batch:7.2f}  {same}", flush=True)
        rows.append(dict(name=name, breadth=ours["mb_per_s"], hf_single=single, hf_batch=batch, tokens_equal=ref_tokens == ours["tokens"]))
    return 0 if all(r["tokens_equal"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
