"""Loads a safetensors file written by breadth with the reference library and compares it with the
expected JSON (same layout as make_safetensors_fixtures.py writes). Exit 0 when equal.

usage: check_written_safetensors.py FILE EXPECTED_JSON
"""
import json
import sys

import torch
from safetensors import safe_open

path, exp_path = sys.argv[1], sys.argv[2]
exp = json.load(open(exp_path))
names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}
with safe_open(path, "pt") as f:
    if dict(f.metadata() or {}) != exp["metadata"]:
        sys.exit(f"metadata {f.metadata()} != {exp['metadata']}")
    if sorted(f.keys()) != sorted(exp["tensors"]):
        sys.exit(f"tensor names {sorted(f.keys())} != {sorted(exp['tensors'])}")
    for k, e in exp["tensors"].items():
        v = f.get_tensor(k)
        vals = (v.double() if v.dtype.is_floating_point else v.long()).flatten().tolist()
        if names[v.dtype] != e["dtype"] or list(v.shape) != e["shape"] or vals != e["values"]:
            sys.exit(f"tensor {k}: {names[v.dtype]} {list(v.shape)} {vals} != {e}")
print("ok")
