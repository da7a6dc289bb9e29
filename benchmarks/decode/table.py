"""Reads bench_decode / bench_hf / llamacpp.sh JSON lines on stdin and prints the comparison table."""
import json
import sys

rows = [json.loads(l) for l in sys.stdin if l.strip().startswith("{")]
# Each dtype's bound from the bandwidth measured last before its expanded batch-1 run (run.sh measures
# it before each dtype's run: the host's bandwidth moves from minute to minute).
bw_for, last_bw = {}, None
for r in rows:
    if r["kind"] == "bandwidth":
        last_bw = r
    elif r["kind"] == "run" and r["impl"] == "breadth" and r.get("weights") == "float" and r["batch"] == 1:
        bw_for.setdefault(r["dtype"], last_bw)
runs = {(r["impl"], r["dtype"], r.get("weights", "float"), r["batch"]): r
        for r in rows if r["kind"] == "run" and not r.get("file_type")}
# Other llama.cpp file types made from the same weights (QUANTS), each side on its blocks.
typed = {(r["impl"], r["file_type"], r["batch"]): r for r in rows if r["kind"] == "run" and r.get("file_type")}
params = next((r["params"] for r in rows if r.get("params")), None)


def cell(r, key):
    return f"{r[key]:.1f}" if r else "-"


def ratio(a, b, key):
    return f"{a[key] / b[key]:.2f}x" if a and b else "-"


print("| weights | dtype | batch | phase | breadth tok/s | transformers tok/s | llama.cpp tok/s | "
      "breadth / transformers | breadth / llama.cpp |")
print("|---|---|---:|---|---:|---:|---:|---:|---:|")
order = sorted({k[1:] for k in runs if k[0] == "breadth"}, key=lambda k: (k[1] != "float", k[0] != "float32", k[0], k[2]))
for dtype, weights, batch in order:
    b = runs[("breadth", dtype, weights, batch)]
    # transformers only expands; llama.cpp runs the shipped blocks (its own activation quantization)
    # for native, and an F32/BF16 file made from them for float.
    h = runs.get(("transformers", dtype, "float", batch))
    l = runs.get(("llama.cpp", "float32", "native", batch)) if weights == "native" else \
        runs.get(("llama.cpp", dtype, "float", batch))
    label = "GGUF blocks" if weights == "native" else "expanded"
    for phase, key in (("prefill", "prefill_tok_s"), ("decode", "decode_tok_s")):
        print(f"| {label} | {dtype} | {batch} | {phase} | {cell(b, key)} | {cell(h, key)} | {cell(l, key)} | "
              f"{ratio(b, h, key)} | {ratio(b, l, key)} |")

for dtype in ("float32", "bfloat16"):
    n = runs.get(("breadth", dtype, "native", 1))
    f = runs.get(("breadth", dtype, "float", 1))
    if n and f and "model_resident_mib" in n:
        print(f"\nResident model memory ({dtype}): native {n['model_resident_mib']:.1f} MiB, "
              f"float {f.get('model_resident_mib', float('nan')):.1f} MiB.")
if params and any(bw_for.values()):
    print()
    for dtype, size in (("float32", 4), ("bfloat16", 2)):
        b, bw = runs.get(("breadth", dtype, "float", 1)), bw_for.get(dtype)
        if not b or not bw:
            continue
        bound = bw["read_gb_s"] * 1e9 / (params * size)
        print(f"Decode bound at batch 1, {dtype}: {params / 1e6:.0f}M weights x {size} B = "
              f"{params * size / 1e6:.0f} MB per token -> {bound:.1f} tok/s at the read bandwidth measured just "
              f"before (read-only sum {bw['read_gb_s']:.1f} GB/s, copy {bw['copy_gb_s']:.1f}); breadth reaches "
              f"{b['decode_tok_s']:.1f} tok/s ({100 * b['decode_tok_s'] / bound:.0f}% of the bound).")

if typed:
    print()
    print("| file type | batch | phase | breadth tok/s | llama.cpp tok/s | breadth / llama.cpp | breadth resident MiB | file MiB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for ft, batch in sorted({(k[1], k[2]) for k in typed if k[0] == "breadth"}):
        b, l = typed[("breadth", ft, batch)], typed.get(("llama.cpp", ft, batch))
        for phase, key in (("prefill", "prefill_tok_s"), ("decode", "decode_tok_s")):
            print(f"| {ft} | {batch} | {phase} | {cell(b, key)} | {cell(l, key)} | {ratio(b, l, key)} | "
                  f"{b.get('model_resident_mib', float('nan')):.1f} | {b.get('file_mib', float('nan')):.1f} |")
