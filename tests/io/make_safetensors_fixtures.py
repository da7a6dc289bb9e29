"""A safetensors file with one small tensor of every dtype, written by the reference `safetensors`
library (torch API, for bfloat16), and the values a reader must return.

usage: make_safetensors_fixtures.py <outdir>
outdir/values.safetensors, outdir/expected.json {tensors: {name: {dtype, shape, values}}, metadata}
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(3)
t = {
    "f64": torch.randn(2, 3, generator=g, dtype=torch.float64),
    "f32": torch.randn(4, 5, generator=g),
    "f16": torch.randn(7, generator=g).half(),
    "bf16": torch.randn(2, 2, 2, generator=g).bfloat16(),
    "i64": torch.tensor([-(2**62), 0, 2**62 + 1]),
    "i32": torch.tensor([[-5, 7], [2**31 - 1, -(2**31)]], dtype=torch.int32),
    "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
    "i8": torch.tensor([-128, 3, 127], dtype=torch.int8),
    "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "empty": torch.zeros(0, 4),
    "scalar": torch.tensor(1.5),
}
meta = {"format": "pt", "note": "h\u00e9llo"}
save_file(t, os.path.join(out, "values.safetensors"), metadata=meta)
names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
         torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
         torch.bool: "BOOL"}
expected = {k: {"dtype": names[v.dtype], "shape": list(v.shape),
                # exact as double for floats (f16/bf16 widen exactly); ints as ints
                "values": (v.double() if v.dtype.is_floating_point else v.long()).flatten().tolist()}
            for k, v in t.items()}
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"tensors": expected, "metadata": meta}, f, ensure_ascii=False)
