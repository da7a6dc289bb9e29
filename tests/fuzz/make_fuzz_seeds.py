"""Small valid inputs for the file-reader fuzz targets (seeds; the fuzzers mutate them).

usage: make_fuzz_seeds.py <outdir>   ->  outdir/gguf/*.gguf, outdir/safetensors/*.safetensors
"""
import os
import shutil
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from safetensors.numpy import save_file

out = sys.argv[1]
rng = np.random.default_rng(7)
for sub in ("gguf", "safetensors"):
    shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(os.path.join(out, sub))


def gguf_seed(name, tensors, alignment=None, meta=True):
    path = os.path.join(out, "gguf", name)
    w = gguf.GGUFWriter(path, "llama")
    if alignment:
        w.add_custom_alignment(alignment)
    if meta:
        w.add_uint32("llama.block_count", 2)
        w.add_float32("llama.rope.freq_base", 10000.0)
        w.add_bool("tokenizer.ggml.add_bos_token", True)
        w.add_string("tokenizer.ggml.model", "gpt2")
        w.add_array("tokenizer.ggml.tokens", ["a", "b", "ab", "<s>"])
        w.add_array("tokenizer.ggml.scores", [0.0, -1.0, -2.0, 0.0])
        w.add_key_value("tokenizer.ggml.token_type", [1, 1, 1, 3], V.ARRAY, sub_type=V.INT32)
        w.add_key_value("test.u64", 2**40, V.UINT64)
        w.add_key_value("test.nested", [[1, 2], [3]], V.ARRAY)
    for tname, arr, qt in tensors:
        w.add_tensor(tname, arr, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def quant(qt, rows, cols):
    return gguf.quants.quantize(rng.standard_normal((rows, cols)).astype(np.float32), qt)


def raw_blocks(qt, n_blocks):
    _, size = gguf.GGML_QUANT_SIZES[qt]
    return rng.integers(0, 256, (1, n_blocks * size), dtype=np.uint8)


gguf_seed("legacy.gguf", [("a", quant(Q.Q4_0, 1, 32), Q.Q4_0), ("b", quant(Q.Q8_0, 2, 32), Q.Q8_0),
                          ("c", rng.standard_normal(8).astype(np.float32), None),
                          ("d", rng.standard_normal((2, 4)).astype(np.float16), None)])
gguf_seed("kquants.gguf", [("k2", raw_blocks(Q.Q2_K, 1), Q.Q2_K), ("k3", raw_blocks(Q.Q3_K, 1), Q.Q3_K),
                           ("k4", raw_blocks(Q.Q4_K, 1), Q.Q4_K), ("k5", raw_blocks(Q.Q5_K, 1), Q.Q5_K),
                           ("k6", raw_blocks(Q.Q6_K, 1), Q.Q6_K)], meta=False)
gguf_seed("mixed64.gguf", [("q41", quant(Q.Q4_1, 1, 32), Q.Q4_1), ("q50", quant(Q.Q5_0, 1, 32), Q.Q5_0),
                           ("q51", quant(Q.Q5_1, 1, 32), Q.Q5_1), ("bf", quant(Q.BF16, 1, 5), Q.BF16),
                           ("i32", np.arange(6, dtype=np.int32).reshape(2, 3), None)], alignment=64)
v3 = gguf_seed("meta_only.gguf", [])
v2 = os.path.join(out, "gguf", "meta_only_v2.gguf")
shutil.copyfile(v3, v2)
with open(v2, "r+b") as f:
    f.seek(4)
    f.write((2).to_bytes(4, "little"))

save_file({"w": rng.standard_normal((3, 4)).astype(np.float32),
           "b": rng.standard_normal(4).astype(np.float16)},
          os.path.join(out, "safetensors", "small.safetensors"), metadata={"format": "pt"})
save_file({"i64": np.arange(5, dtype=np.int64), "u8": np.arange(3, dtype=np.uint8),
           "bool": np.array([True, False]), "f64": np.ones((1, 2)), "empty": np.zeros((0, 3), np.float32),
           "i8": np.array([-1, 2], dtype=np.int8), "i16": np.array([7], dtype=np.int16)},
          os.path.join(out, "safetensors", "dtypes.safetensors"))
print("fuzz seeds written to", out)
