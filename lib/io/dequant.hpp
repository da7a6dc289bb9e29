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

/// The bits of a grouped type's integers: 2 (Q2_K), 3 (Q3_K), 4 (Q4_0, Q4_1, Q4_K), 5 (Q5_0, Q5_1,
/// Q5_K), 6 (Q6_K), 8 (Q8_0): the types whose every group of ggml_group_elems(t) elements is an
/// affine map of small integers (value = scale * q + offset); 0 for every other type.
int ggml_group_bits(GgmlType t);
/// The elements that share a scale: 16 for Q6_K, Q3_K and Q2_K, 32 for the other grouped types, 0
/// for types that are not grouped.
int ggml_group_elems(GgmlType t);

/// Elements per super-block of the K types, over which their group scales factor.
constexpr int64_t kGroupSuperElems = 256;

/// How a grouped type's scales factor over super-blocks of kGroupSuperElems elements (its stored
/// form: a half d per super-block times a small integer per group): kNone for the types with a half
/// scale per group (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0); kSeparate when offsets have integers of their own
/// (Q4_K, Q5_K, Q2_K: -dmin * m); kShared when the offset is a fixed multiple of the scale, so
/// offset_g = super_offset * sub_scale_g (Q6_K: -32 d sc, Q3_K: -4 d sc).
enum class GroupFactoring { kNone, kShared, kSeparate };
GroupFactoring ggml_group_factoring(GgmlType t);

/// A K type's group scales in two levels: scale_g = super_scale[s] * sub_scale[g] and offset_g =
/// super_offset[s] * sub_offset[g] (sub_scale[g] when kShared), s = g / (kGroupSuperElems / group),
/// both products exact in float32 (at most 11 + 8 significant bits): the same floats as split_groups'
/// scale and offset at an eighth of their bytes.
struct GroupFactors {
  float* super_scale = nullptr;   ///< numel / kGroupSuperElems
  float* super_offset = nullptr;  ///< numel / kGroupSuperElems
  int8_t* sub_scale = nullptr;    ///< numel / group
  int8_t* sub_offset = nullptr;   ///< numel / group for kSeparate; null for kShared
};

/// Splits `numel` elements of such a type (ggml_group_bits(t) > 0) into one integer byte per element
/// at `q` (unsigned, in [0, 2^bits), below 8 bits: a signed format's q + 2^(bits-1); int8 for 8
/// bits) and numel / ggml_group_elems(t) scales and offsets, so that scale * q + offset equals
/// `dequantize`'s float32 exactly (up to the sign of a zero). With `factors` (types whose factoring
/// is not kNone), the two-level form of the same scales too. InvalidArgument for other types.
void split_groups(GgmlType t, const uint8_t* src, int64_t numel, uint8_t* q, float* scale, float* offset,
                  const GroupFactors* factors = nullptr);

}  // namespace breadth::io
