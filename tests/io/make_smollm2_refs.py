"""Reads the real SmolLM2-135M-Instruct Q4_1 GGUF with gguf-py's GGUFReader and writes what breadth's
reader must agree with.

usage: make_smollm2_refs.py <outdir>     (the model path comes from $BREADTH_MODELS_DIR)

outdir/smollm2.json              {path, version, tensors: [{name, shape, type, nbytes, offset}],
                                  scalars: {key: value}, arrays: {key: {elem, size, head, tail}}}
outdir/smollm2_ref.safetensors   gguf-py's dequantization of a few tensors (rows of token_embd only)
A missing model is an error (run `make setup`); under BREADTH_ALLOW_MISSING_MODELS=1 the script writes
nothing and succeeds, and test_gguf_real reports its cases as skipped.
"""
import json
import os
import sys

import numpy as np
import gguf
from safetensors.numpy import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
path = os.path.join(os.environ.get("BREADTH_MODELS_DIR", ""), "smollm2-135m-instruct.gguf")
# Older trees held a MISSING marker that made the test skip forever; no such marker is read any more.
if os.path.exists(os.path.join(out, "MISSING")):
    os.remove(os.path.join(out, "MISSING"))
for stale in ("smollm2.json", "smollm2_ref.safetensors"):
    if os.path.exists(os.path.join(out, stale)):
        os.remove(os.path.join(out, stale))
if not os.path.exists(path):
    if os.environ.get("BREADTH_ALLOW_MISSING_MODELS") == "1":
        print(f"{path} not found; BREADTH_ALLOW_MISSING_MODELS=1: the real-model GGUF test will skip")
        sys.exit(0)
    sys.exit(f"{path} is missing: run `make setup` (scripts/setup.sh) to download it "
             "(or set BREADTH_ALLOW_MISSING_MODELS=1 to skip the tests that need it)")

r = gguf.GGUFReader(path)
V = gguf.GGUFValueType


def decode(v):
    return v.decode("utf-8") if isinstance(v, (bytes, bytearray)) else v


scalars, arrays = {}, {}
for key, f in r.fields.items():
    if key.startswith("GGUF."):
        continue
    if f.types[0] == V.ARRAY:
        vals = [decode(v) for v in f.contents()]
        vals = [float(v) if isinstance(v, float) else v for v in vals]
        arrays[key] = {"elem": int(f.types[1]), "size": len(f.data), "head": vals[:20], "tail": vals[-20:]}
    else:
        v = f.contents()
        scalars[key] = {"type": int(f.types[0]), "value": decode(v)}

tensors = [{"name": t.name, "shape": [int(s) for s in t.shape], "type": int(t.tensor_type),
            "nbytes": int(t.n_bytes), "offset": int(t.data_offset)} for t in r.tensors]

refs = {}
by_name = {t.name: t for t in r.tensors}
for name in ["blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.0.ffn_down.weight",
             "blk.29.ffn_up.weight", "output_norm.weight"]:
    t = by_name[name]
    refs[name] = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
emb = by_name["token_embd.weight"]  # Q8_0, 49152 x 576: compare a first, middle and last few rows
rows = np.r_[0:4, 24000:24004, emb.data.shape[0] - 4:emb.data.shape[0]]
refs["token_embd.weight:rows"] = np.ascontiguousarray(
    gguf.quants.dequantize(emb.data[rows], emb.tensor_type), dtype=np.float32)

with open(os.path.join(out, "smollm2.json"), "w") as f:
    json.dump({"path": path, "version": int(r.fields["GGUF.version"].contents()), "tensors": tensors,
               "scalars": scalars, "arrays": arrays, "token_embd_rows": [int(i) for i in rows]},
              f, ensure_ascii=False)
save_file(refs, os.path.join(out, "smollm2_ref.safetensors"))
print(f"wrote references for {len(tensors)} tensors of {path}")
