"""Reads bench_baco / bench_hf.py JSON lines on stdin; prints a markdown table: time per sample of each
configuration for breadth and transformers, each relative to the same implementation's aligned-only
decoding, and breadth against transformers."""
import json
import sys

rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
by = {(r["impl"], r["config"]): r for r in rows}
configs = []
for r in rows:
    if r["config"] not in configs:
        configs.append(r["config"])
first = rows[0]
print(f"{first['prompts']} prompts x {first['n']} samples, {first['new']} new tokens each (EOS ignored), "
      f"{first['threads']} threads, best of the repeats\n")
print("| configuration | breadth s/sample | x aligned-only | transformers s/sample | x aligned-only | "
      "breadth vs transformers | base share (breadth) | base/aligned forwards (breadth) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
ba = by.get(("breadth", "aligned-only"))
ta = by.get(("transformers", "aligned-only"))
for c in configs:
    b, t = by.get(("breadth", c)), by.get(("transformers", c))
    cell = lambda r, ref: (f"{r['s_per_sample']:.3f}", f"{r['s_per_sample'] / ref['s_per_sample']:.2f}x") \
        if r and ref else ("", "")
    bs, bx = cell(b, ba)
    ts, tx = cell(t, ta)
    speed = f"{t['s_per_sample'] / b['s_per_sample']:.2f}x faster" if b and t else ""
    share = f"{b['base_share']:.2f}" if b and "base_share" in b else ""
    fw = f"{b['base_forwards']}/{b['aligned_forwards']}" if b and "base_forwards" in b else ""
    print(f"| {c} | {bs} | {bx} | {ts} | {tx} | {speed} | {share} | {fw} |")
