"""Reads bench_decode / bench_hf JSON lines on stdin and prints the comparison table (Markdown)."""
import json
import sys

rows = [json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
bw = next((r for r in rows if r["kind"] == "bandwidth"), None)
runs = {(r["impl"], r["dtype"], r["batch"]): r for r in rows if r["kind"] == "run" and r.get("weights", "float") == "float"}
native = {(r["dtype"], r["batch"]): r for r in rows if r["kind"] == "run" and r.get("weights") == "native"}
params = next((r["params"] for r in rows if r.get("params")), None)

print("| dtype | batch | phase | breadth tok/s | transformers tok/s | breadth / transformers | breadth native Q4_1 tok/s | native / transformers |")
print("|---|---:|---|---:|---:|---:|---:|---:|")
for (impl, dtype, batch), b in sorted(runs.items(), key=lambda kv: (kv[0][1] != "float32", kv[0][1], kv[0][2])):
    if impl != "breadth":
        continue
    h = runs.get(("transformers", dtype, batch))
    for phase, key in (("prefill", "prefill_tok_s"), ("decode", "decode_tok_s")):
        hv = h[key] if h else float("nan")
        n = native.get((dtype, batch))
        nv = n[key] if n else float("nan")
        print(f"| {dtype} | {batch} | {phase} | {b[key]:.1f} | {hv:.1f} | {b[key] / hv:.2f}x | {nv:.1f} | {nv / hv:.2f}x |")
for (dtype, batch), n in sorted(native.items()):
    if batch == 1 and "model_resident_mib" in n:
        f = runs.get(("breadth", dtype, 1), {})
        print(f"\nResident model memory ({dtype}): native {n['model_resident_mib']:.1f} MiB, float "
              f"{f.get('model_resident_mib', float('nan')):.1f} MiB.")
if bw and params:
    print()
    print(f"Memory bandwidth: copy {bw['copy_gb_s']:.1f} GB/s (read+write), read-only sum {bw['read_gb_s']:.1f} GB/s.")
    for dtype, size in (("float32", 4), ("bfloat16", 2)):
        b = runs.get(("breadth", dtype, 1))
        if not b:
            continue
        bound = bw["read_gb_s"] * 1e9 / (params * size)
        print(f"Decode bound at batch 1, {dtype}: {params / 1e6:.0f}M weights x {size} B = "
              f"{params * size / 1e6:.0f} MB per token -> {bound:.1f} tok/s at the read bandwidth; "
              f"breadth reaches {b['decode_tok_s']:.1f} tok/s ({100 * b['decode_tok_s'] / bound:.0f}% of the bound).")
