"""GGUF open + dequantization to float32: breadth (bench_gguf) beside gguf-py (GGUFReader and
gguf.quants.dequantize, numpy), measured in the same run on the same files. Best of N repeats.

Files: the real SmolLM2-135M-Instruct Q4_1 GGUF (Q4_1 + Q8_0 + F32 tensors) and a synthetic GGUF with a
4 Mi-element tensor of each other type (random blocks with finite scales). Prints a Markdown table.

usage: python run_bench.py BENCH_BINARY [--repeats 5] [--model PATH]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

F16_FIELDS = {Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208],
              Q.Q4_0: [0], Q.Q5_0: [0], Q.Q8_0: [0], Q.Q4_1: [0, 2], Q.Q5_1: [0, 2], Q.IQ4_XS: [0]}


def synthetic(path, rows=4096, cols=1024):
    rng = np.random.default_rng(0)
    w = gguf.GGUFWriter(path, "bench")
    for qt in [Q.F16, Q.BF16, Q.Q4_0, Q.Q5_0, Q.Q5_1, Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.IQ4_XS]:
        block, size = gguf.GGML_QUANT_SIZES[qt]
        if qt in (Q.F16, Q.BF16):
            b = rng.integers(0, 256, (rows, cols * size), dtype=np.uint8)
            b[:, 1::2] &= 0x3f  # finite values
        else:
            nb = rows * cols // block
            b = rng.integers(0, 256, (nb, size), dtype=np.uint8)
            for off in F16_FIELDS[qt]:
                b[:, off:off + 2] = rng.uniform(1e-3, 0.1, nb).astype(np.float16).view(np.uint8).reshape(nb, 2)
            b = b.reshape(rows, cols // block * size)
        w.add_tensor(f"t.{qt.name}", b, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def python_side(path, repeats):
    open_best = min(timed(lambda: gguf.GGUFReader(path)) for _ in range(repeats))
    r = gguf.GGUFReader(path)
    by_type = {}
    for t in r.tensors:
        by_type.setdefault(t.tensor_type.name, []).append(t)
    types = {}
    for name, ts in by_type.items():
        def run():
            for t in ts:
                gguf.quants.dequantize(t.data, t.tensor_type)
        types[name] = {"seconds": min(timed(run) for _ in range(repeats)),
                       "numel": int(sum(int(np.prod(t.shape)) for t in ts))}
    return {"open_seconds": open_best, "types": types}


def timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def breadth_side(binary, path, repeats, threads):
    out = subprocess.run([binary, path, "--repeats", str(repeats), "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def table(label, path, binary, repeats):
    b1 = breadth_side(binary, path, repeats, 1)
    bn = breadth_side(binary, path, repeats, os.cpu_count())
    py = python_side(path, repeats)
    rows = [("open + parse header", None, b1["open_seconds"], bn["open_seconds"], py["open_seconds"])]
    for name in sorted(py["types"], key=lambda n: -py["types"][n]["numel"]):
        rows.append((f"dequantize {name}", py["types"][name]["numel"], b1["types"][name]["seconds"],
                     bn["types"][name]["seconds"], py["types"][name]["seconds"]))
    print(f"\n{label} ({os.path.basename(path)}), best of {repeats}, {os.cpu_count()} threads max\n")
    print("| operation | elements | breadth 1 thread | breadth all threads | gguf-py (numpy) | speed-up (1 thread) |")
    print("|---|---:|---:|---:|---:|---:|")
    for op, n, t1, tn, tp in rows:
        rate = "" if n is None else f" ({n / t1 / 1e6:.0f} M/s)"
        print(f"| {op} | {'' if n is None else f'{n / 1e6:.1f} M'} | {t1 * 1e3:.2f} ms{rate} | "
              f"{tn * 1e3:.2f} ms | {tp * 1e3:.2f} ms | {tp / t1:.1f}x |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default=os.path.join(
        os.environ.get("BREADTH_CACHE", os.path.expanduser("~/.cache/breadth")), "models",
        "smollm2-135m-instruct.gguf"))
    a = ap.parse_args()
    if os.path.exists(a.model):
        table("Real model", a.model, a.binary, a.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "synthetic.gguf")
        synthetic(path)
        table("Synthetic, one 4 Mi-element tensor per type", path, a.binary, a.repeats)


if __name__ == "__main__":
    main()
