"""Writes GGUF files with every metadata value type and a random tensor of each ggml type, plus the
reference float32 values from gguf-py (the numpy port of ggml's dequantizers).

usage: make_gguf_fixtures.py <outdir>

outdir/types.gguf          GGUF v3 (GGUFWriter), default alignment 32
outdir/types_v2.gguf       the same bytes with the version field set to 2 (v2 and v3 share a layout)
outdir/aligned64.gguf      general.alignment = 64
outdir/reference.safetensors  float32 reference of every tensor in types.gguf (numpy shape order)
outdir/metadata.json       [{key, type, elem, value}] as written; key order as GGUFReader reads it back
outdir/tensors.json        [{name, shape (ggml order), type, nbytes}] as GGUFReader reads them back
"""
import json
import os
import shutil
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from safetensors.numpy import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1234)

# ------------------------------------------------------------------------------------------ metadata
META = [
    ("test.u8", V.UINT8, None, 200),
    ("test.i8", V.INT8, None, -100),
    ("test.u16", V.UINT16, None, 60000),
    ("test.i16", V.INT16, None, -30000),
    ("test.u32", V.UINT32, None, 4000000000),
    ("test.i32", V.INT32, None, -2000000000),
    ("test.f32", V.FLOAT32, None, 3.25),
    ("test.f32_pi", V.FLOAT32, None, 3.14159),
    ("test.bool_t", V.BOOL, None, True),
    ("test.bool_f", V.BOOL, None, False),
    ("test.str", V.STRING, None, "h\u00e9llo w\u00f6rld \u2713"),
    ("test.u64", V.UINT64, None, 2**63 + 5),
    ("test.u64_small", V.UINT64, None, 123456789012),
    ("test.i64", V.INT64, None, -(2**62)),
    ("test.f64", V.FLOAT64, None, 2.718281828459045),
    ("test.arr_u8", V.ARRAY, V.UINT8, [0, 1, 255]),
    ("test.arr_i8", V.ARRAY, V.INT8, [-128, 0, 127]),
    ("test.arr_u16", V.ARRAY, V.UINT16, [0, 65535]),
    ("test.arr_i16", V.ARRAY, V.INT16, [-32768, 32767]),
    ("test.arr_u32", V.ARRAY, V.UINT32, [0, 4294967295]),
    ("test.arr_i32", V.ARRAY, V.INT32, [-2147483648, 5, 2147483647]),
    ("test.arr_f32", V.ARRAY, V.FLOAT32, [0.5, -1.25, 1e-3]),
    ("test.arr_bool", V.ARRAY, V.BOOL, [True, False, True]),
    ("test.arr_str", V.ARRAY, V.STRING, ["a", "", "\u4e2d\u6587", "tab\tnew\nline"]),
    ("test.arr_u64", V.ARRAY, V.UINT64, [0, 2**40]),
    ("test.arr_i64", V.ARRAY, V.INT64, [-(2**40), 7]),
    ("test.arr_f64", V.ARRAY, V.FLOAT64, [1.0 / 3.0, -2.5]),
    ("test.nested_int", V.ARRAY, V.ARRAY, [[1, 2, 3], [4, 5]]),
    ("test.nested_str", V.ARRAY, V.ARRAY, [["x", "y"], ["z"]]),
]


def as_written(vtype, value):
    """The value a reader must return: float32 values rounded as the file stores them."""
    if vtype == V.FLOAT32:
        return float(np.float32(value))
    return value


# ------------------------------------------------------------------------------------------ tensors
def f16_scales(n):
    """Finite f16 scales of both signs, as raw bytes."""
    mag = rng.uniform(1e-3, 0.5, n).astype(np.float16)
    sign = np.where(rng.random(n) < 0.5, -1, 1).astype(np.float16)
    return (mag * sign).view(np.uint8).reshape(n, 2)


# Byte offsets of the f16 scale fields inside one block, for types gguf-py cannot quantize.
F16_FIELDS = {
    Q.Q2_K: [80, 82],
    Q.Q3_K: [108],
    Q.Q4_K: [0, 2],
    Q.Q5_K: [0, 2],
    Q.Q6_K: [208],
    Q.IQ4_NL: [0],
    Q.IQ4_XS: [0],
    Q.IQ2_XXS: [0],
    Q.IQ2_XS: [0],
    Q.IQ2_S: [0],
    Q.IQ3_XXS: [0],
    Q.IQ3_S: [0],
    Q.IQ1_S: [0],
    Q.TQ1_0: [52],
}


def random_blocks(qtype, rows, cols):
    """Random quant bytes with finite scales: every bit pattern of the quants is exercised."""
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block
    b = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    for off in F16_FIELDS.get(qtype, []):  # (every other bit pattern stays random)
        b[:, off:off + 2] = f16_scales(n_blocks)
    if qtype == Q.IQ1_M:
        # The f16 scale is spread over the top nibbles of the four u16 at bytes 48..55.
        d = f16_scales(n_blocks).view(np.uint16).reshape(n_blocks)
        sc = b[:, 48:56].copy().view(np.uint16)
        for k in range(4):
            sc[:, k] = (sc[:, k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12)
        b[:, 48:56] = sc.view(np.uint8)
    if qtype == Q.Q8_K:
        b[:, 0:4] = rng.uniform(-0.1, 0.1, n_blocks).astype(np.float32).view(np.uint8).reshape(n_blocks, 4)
    return b.reshape(rows, cols // block * size)


def q8_k_reference(raw, rows, cols):
    # block_q8_K { float d; int8 qs[256]; int16 bsums[16]; }: x = d * q (hand-worked from ggml-common.h;
    # gguf-py has no Q8_K dequantizer).
    b = raw.reshape(-1, 292)
    d = b[:, 0:4].copy().view(np.float32)
    q = b[:, 4:260].copy().view(np.int8).astype(np.float32)
    return (d * q).reshape(rows, cols)


tensors = []  # (name, array for add_tensor, raw_dtype or None, reference float32 array)


def add_quantized(name, qtype, rows, cols, scale=1.0):
    x = (rng.standard_normal((rows, cols)) * scale).astype(np.float32)
    q = gguf.quants.quantize(x, qtype)
    ref = gguf.quants.dequantize(q, qtype).astype(np.float32)
    tensors.append((name, q, qtype, ref))


for qt in [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.TQ2_0, Q.MXFP4]:
    add_quantized(f"quant.{qt.name}", qt, 4, 512)
# BF16 goes through gguf-py's own rounding (round to nearest even).
add_quantized("plain.BF16", Q.BF16, 3, 100)
for qt in [Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.IQ4_NL, Q.IQ4_XS, Q.IQ2_XXS, Q.IQ2_XS, Q.IQ2_S,
           Q.IQ3_XXS, Q.IQ3_S, Q.IQ1_S, Q.IQ1_M, Q.TQ1_0]:
    # The i-quants get 1024 blocks: enough random indices to reach every row of their grids (IQ1_S
    # has 2048 rows; 32768 draws miss one with probability ~2e-4).
    rows = 64 if qt.name.startswith("IQ") and qt not in (Q.IQ4_NL, Q.IQ4_XS) else 4
    raw = random_blocks(qt, rows, 4096 if rows == 64 else 512)
    tensors.append((f"raw.{qt.name}", raw, qt, gguf.quants.dequantize(raw, qt).astype(np.float32)))
raw = random_blocks(Q.Q8_K, 2, 512)
tensors.append(("raw.Q8_K", raw, Q.Q8_K, q8_k_reference(raw, 2, 512)))

x = rng.standard_normal((2, 3, 64)).astype(np.float32)
tensors.append(("plain.F32", x, None, x))
x = rng.standard_normal(77).astype(np.float32)
tensors.append(("plain.F32_1d", x, None, x))
# Every f16 bit pattern: normals, subnormals, zeros of both signs, infinities, NaNs.
h = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16).reshape(256, 256)
tensors.append(("plain.F16_all", h, None, h.astype(np.float32)))
x = rng.standard_normal((5, 6)).astype(np.float64)
tensors.append(("plain.F64", x, None, x.astype(np.float32)))
for dt in [np.int8, np.int16, np.int32, np.int64]:
    info = np.iinfo(dt)
    x = rng.integers(info.min, info.max, (3, 10), dtype=dt, endpoint=True)
    tensors.append((f"plain.{np.dtype(dt).name}", x, None, x.astype(np.float32)))
# TQ1_0 as gguf-py quantizes it too (every trit pattern a real ternary model has).
add_quantized("quant.TQ1_0", Q.TQ1_0, 4, 512)
# Every type breadth can size it also dequantizes except Q8_1 (ggml's activation type, never in model
# files; gguf-py even sizes it differently), so no tensor here exercises Unsupported: test_dequant does.


def write(path, alignment=None, with_tensors=True):
    w = gguf.GGUFWriter(path, "testarch")
    if alignment:
        w.add_custom_alignment(alignment)
    for key, vt, sub, value in META:
        w.add_key_value(key, value, vt, sub_type=None if sub == V.ARRAY else sub)
    if with_tensors:
        for name, arr, qt, _ in tensors:
            w.add_tensor(name, arr, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


types_path = os.path.join(out, "types.gguf")
write(types_path)
write(os.path.join(out, "aligned64.gguf"), alignment=64)

v2 = os.path.join(out, "types_v2.gguf")
shutil.copyfile(types_path, v2)
with open(v2, "r+b") as f:
    f.seek(4)
    f.write((2).to_bytes(4, "little"))

save_file({name: np.ascontiguousarray(ref) for name, _, _, ref in tensors if ref is not None},
          os.path.join(out, "reference.safetensors"))

# ------------------------------------------------------------------------------------------ expectations
reader = gguf.GGUFReader(types_path)
meta_by_key = {k: (vt, sub, v) for k, vt, sub, v in META}
meta_out = []
for key, field in reader.fields.items():
    if key.startswith("GGUF."):
        continue  # the header pseudo-fields
    if key in meta_by_key:
        vt, sub, value = meta_by_key[key]
        elem = sub
        if vt == V.ARRAY and sub != V.ARRAY:
            value = [as_written(sub, v) for v in value]
        else:
            value = as_written(vt, value)
    else:  # written by GGUFWriter itself (general.architecture)
        vt = V(field.types[0])
        elem = None
        value = field.contents()
    assert V(field.types[0]) == vt, key
    meta_out.append({"key": key, "type": int(vt), "elem": None if elem is None else int(elem),
                     "value": value})
with open(os.path.join(out, "metadata.json"), "w") as f:
    json.dump(meta_out, f, ensure_ascii=False)

tensors_out = [{"name": t.name, "shape": [int(s) for s in t.shape], "type": int(t.tensor_type),
                "nbytes": int(t.n_bytes)} for t in reader.tensors]
with open(os.path.join(out, "tensors.json"), "w") as f:
    json.dump(tensors_out, f)
print(f"wrote {len(tensors_out)} tensors and {len(meta_out)} keys to {out}")
