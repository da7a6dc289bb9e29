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

}  // namespace breadth::io
