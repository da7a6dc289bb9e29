"""transformers peer of bench_baco: the same GGUF (dequantized to float32 by transformers), prompts,
samples, lengths, batch and threads. Aligned-only decoding is model.generate() (top-p 0.9, EOS
suppressed by min_new_tokens); BACO is a straightforward two-cache loop in PyTorch: both roles advance
every step (as a vLLM-style implementation would), the p / p-punc rules, first token aligned, switches
only at word boundaries, EOS masked. Prints one JSON object per configuration (best of R repeats).

usage: bench_hf.py MODEL.gguf --prompts FILE.jsonl [--num-prompts K] [--n N] [--new T] [--repeats R]
                   [--threads H] [--rules p:0.3,p-punc:0.3]
"""
import argparse
import json
import os
import time
import unicodedata

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def token_classes(tok):
    """starts_word / ends_word / punctuation per id from the byte-level token strings."""
    V = len(tok)
    starts, ends, punct = torch.zeros(V, dtype=torch.bool), torch.zeros(V, dtype=torch.bool), torch.zeros(V, dtype=torch.bool)
    specials = set(tok.all_special_ids)
    for i in range(V):
        s = tok.decode([i])
        core = "".join(ch for ch in s if not ch.isspace())
        p = i in specials or all(unicodedata.category(ch)[0] in "PS" for ch in core)
        punct[i] = p
        starts[i] = p or (len(s) > 0 and s[0].isspace())
        ends[i] = p or (len(s) > 0 and (s[-1].isspace() or unicodedata.category(s[-1])[0] in "PS"))
    return starts, ends, punct


def top_p_filter(logits, p):
    sorted_logits, idx = logits.sort(-1, descending=True)
    probs = sorted_logits.softmax(-1)
    before = probs.cumsum(-1) - probs
    sorted_logits[before >= p] = -float("inf")
    return torch.full_like(logits, -float("inf")).scatter(-1, idx, sorted_logits)


def left_pad(seqs, pad):
    T = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), T), dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[b, T - len(s):] = torch.tensor(s)
        mask[b, T - len(s):] = 1
    return ids, mask


def step(model, ids, mask, past):
    pos = (mask.cumsum(-1) - 1).clamp(min=0)[:, -ids.shape[1]:]
    out = model(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=past, use_cache=True,
                logits_to_keep=1)
    return out.logits[:, -1].float(), out.past_key_values


def baco(model, a_prompts, b_prompts, n, T, rule, gamma, classes, eos_ids, pad, gen):
    starts, ends, punct = classes
    rep = lambda seqs: [s for s in seqs for _ in range(n)]
    a_ids, a_mask = left_pad(rep(a_prompts), pad)
    b_ids, b_mask = left_pad(rep(b_prompts), pad)
    la, pa = step(model, a_ids, a_mask, None)
    lb, pb = step(model, b_ids, b_mask, None)
    B = a_ids.shape[0]
    owner = torch.ones(B, dtype=torch.bool)       # True = aligned owns the current word
    prev_end = torch.ones(B, dtype=torch.bool)
    base_tokens = 0
    for t in range(T):
        la[:, eos_ids] = -float("inf")
        lb[:, eos_ids] = -float("inf")
        ca = torch.multinomial(top_p_filter(la, 0.9).softmax(-1), 1, generator=gen)[:, 0]
        cb = torch.multinomial(top_p_filter(lb, 0.9).softmax(-1), 1, generator=gen)[:, 0]
        pbmax = lb.softmax(-1).max(-1).values
        top1 = la.argmax(-1)
        to_base = pbmax < gamma
        if rule == "p-punc":
            to_base &= ~(punct[top1] | punct[cb])
        if t == 0:
            to_base[:] = False
        own_c = torch.where(owner, ca, cb)
        in_word = ~prev_end & ~starts[own_c]
        to_base = torch.where(in_word, ~owner, to_base)
        # The non-owner may not continue the owner's word.
        bad = ~prev_end & (to_base == owner) & ~torch.where(to_base, starts[cb], starts[ca])
        to_base = torch.where(bad, ~owner, to_base)
        nxt = torch.where(to_base, cb, ca)
        base_tokens += int(to_base.sum())
        owner = ~to_base
        prev_end = ends[nxt]
        a_mask = torch.cat([a_mask, torch.ones(B, 1, dtype=torch.long)], 1)
        b_mask = torch.cat([b_mask, torch.ones(B, 1, dtype=torch.long)], 1)
        la, pa = step(model, nxt[:, None], a_mask, pa)
        lb, pb = step(model, nxt[:, None], b_mask, pb)
    return base_tokens / (B * T)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--num-prompts", type=int, default=2)
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--new", type=int, default=48)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rules", default="p:0.3,p-punc:0.3")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    path = os.path.realpath(a.model)
    d, f = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
    prompts = [json.loads(l)["prompt"] for l in open(a.prompts)][: a.num_prompts]
    a_prompts = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                         tokenize=True) for p in prompts]
    a_prompts = [x["input_ids"] if isinstance(x, dict) or hasattr(x, "keys") else x for x in a_prompts]
    b_prompts = [tok(p)["input_ids"] for p in prompts]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    eos_ids = sorted({tok.eos_token_id} | set(getattr(model.generation_config, "eos_token_id", None) or []
                                               if isinstance(model.generation_config.eos_token_id, list) else {tok.eos_token_id}))
    classes = token_classes(tok)
    gen = torch.Generator().manual_seed(1)
    S = len(prompts) * a.n

    def report(config, secs, extra=None):
        j = {"impl": "transformers", "config": config, "prompts": len(prompts), "n": a.n, "new": a.new,
             "threads": a.threads, "s_per_sample": secs / S}
        j.update(extra or {})
        print(json.dumps(j), flush=True)

    def best(fn):
        fn()
        b = 1e30
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            fn()
            b = min(b, time.perf_counter() - t0)
        return b

    ids, mask = left_pad([p for p in a_prompts for _ in range(a.n)], pad)

    def aligned_only():
        with torch.inference_mode():
            model.generate(input_ids=ids, attention_mask=mask, do_sample=True, top_p=0.9, temperature=1.0,
                           top_k=0, max_new_tokens=a.new, min_new_tokens=a.new, pad_token_id=pad)

    report("aligned-only", best(aligned_only))
    for spec in a.rules.split(","):
        rule, gamma = spec.split(":")
        share = {}

        def run():
            with torch.inference_mode():
                share["v"] = baco(model, a_prompts, b_prompts, a.n, a.new, rule, float(gamma), classes,
                                  eos_ids, pad, gen)

        report(f"baco {spec} eager", best(run), {"base_share": share["v"]})


if __name__ == "__main__":
    main()
