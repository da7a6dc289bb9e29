"""transformers' peer of bench_decode: the same GGUF (dequantized to float32 by transformers), dtype,
batches, prompt and decode lengths, threads; the same prefill + greedy-decode protocol through its
KV cache. Prints one JSON object per line.

usage: bench_hf.py MODEL.gguf --dtype float32|bfloat16 --batches 1,10 --prompt P --new N --repeats R --threads T
"""
import argparse
import json
import os
import time

import torch
from transformers import AutoModelForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--batches", default="1,10")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[a.dtype]
    path = os.path.realpath(a.model)
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path),
                                                 dtype=torch.float32).to(dtype).eval()
    load_s = time.perf_counter() - t0
    V = model.config.vocab_size
    gen = torch.Generator().manual_seed(0)
    for B in [int(x) for x in a.batches.split(",")]:
        ids = torch.randint(3, V, (B, a.prompt), generator=gen)
        pre, dec = [], []
        for r in range(a.repeats + 1):
            with torch.inference_mode():
                t0 = time.perf_counter()
                # logits_to_keep=1: only the last position's logits, as generate() asks for and breadth computes.
                out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1)
                t1 = time.perf_counter()
                for _ in range(a.new):
                    out = model(input_ids=nxt[:, None], past_key_values=past, use_cache=True)
                    past = out.past_key_values
                    nxt = out.logits[:, -1].argmax(-1)
                t2 = time.perf_counter()
            if r == 0:
                continue
            pre.append(t1 - t0)
            dec.append(t2 - t1)
        med = lambda v: sorted(v)[len(v) // 2]
        print(json.dumps({"kind": "run", "impl": "transformers", "dtype": a.dtype, "batch": B,
                          "prompt": a.prompt, "new": a.new, "threads": a.threads, "load_s": round(load_s, 2),
                          "prefill_tok_s": round(B * a.prompt / med(pre), 1),
                          "decode_tok_s": round(B * a.new / med(dec), 2)}), flush=True)


if __name__ == "__main__":
    main()
