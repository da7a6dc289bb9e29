// Conversion of ggml's tensor element types (plain and block-quantized) to float32.
//
// Each block format is decoded exactly as ggml defines it (ggml-common.h / ggml-quants.c): a block of
// `block_elems` values stored in `block_bytes` bytes, with f16 (or f32) scales and packed integer
// quants. The per-type kernels are plain loops over whole blocks, chosen once per call, so converting
// a tensor costs no per-element dispatch. Bytes are read with memcpy: blocks need no alignment.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/gguf.hpp"

namespace breadth::io {

/// IEEE half (binary16) to float, exact for every input incl. subnormals, infinities and NaN.
float fp16_to_fp32(uint16_t h);
/// bfloat16 to float (exact: the top half of a float32).
float bf16_to_fp32(uint16_t h);

/// Converts `n_blocks` consecutive blocks of type `t` at `src` into `n_blocks * block_elems` floats at
/// `dst`, on the calling thread. Throws Unsupported when `t` cannot be dequantized.
void dequantize_blocks(GgmlType t, const uint8_t* src, float* dst, int64_t n_blocks);

/// Converts `numel` elements of type `t` (`numel` a multiple of the block size; `src` holds exactly
/// the bytes they need) to float32, splitting large tensors over up to `max_threads` threads
/// (0: the hardware's concurrency). Throws InvalidArgument when numel is not a whole number of blocks.
void dequantize(GgmlType t, const uint8_t* src, float* dst, int64_t numel, int max_threads = 0);

/// 4 for Q4_0, Q4_1 and Q4_K; 8 for Q8_0 (int8 q), Q5_0, Q5_1, Q5_K (q in [0, 31]), Q6_K ([-32, 31]),
/// Q3_K ([-4, 3]) and Q2_K ([0, 3]), each held in a byte: the types whose every group of
/// ggml_group_elems(t) elements is an affine map of small integers (value = scale * q + offset);
/// 0 for every other type.
int ggml_group_bits(GgmlType t);
/// The elements that share a scale: 16 for Q6_K, Q3_K and Q2_K, 32 for the other grouped types, 0
/// for types that are not grouped.
int ggml_group_elems(GgmlType t);

/// Splits `numel` elements of such a type (ggml_group_bits(t) > 0) into one integer byte per element
/// at `q` (uint8 in [0, 15] for 4 bits, int8 for 8 bits) and numel / ggml_group_elems(t) scales and
/// offsets, so that scale * q + offset equals `dequantize`'s float32 exactly (up
/// to the sign of a zero). InvalidArgument for other types.
void split_groups(GgmlType t, const uint8_t* src, int64_t numel, uint8_t* q, float* scale,
                  float* offset);

}  // namespace breadth::io
