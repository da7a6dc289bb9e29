// y = x W^T for a few rows of activations on the CPU: the decode step's projections.
#pragma once

#include <cstdint>

namespace breadth::model {

/// The most activation rows gemv_f32 takes: each weight row is read from memory once and used for
/// every activation row while it sits in L1, which pays while the rows fit beside it.
constexpr int64_t kGemvMaxRows = 16;

/// y[m, o] = sum_k x[m, k] w[o, k] for m < rows <= kGemvMaxRows, all row-major and contiguous, split
/// over libtorch's intra-op threads by output rows. Returns false (and writes nothing) when this CPU
/// has neither AVX-512F nor AVX2 with FMA; the caller then uses libtorch's linear. Why it exists:
/// libtorch's float32 linear at one row is MKL's sgemv, which reads weights at about half the rate
/// of this loop on AMD EPYC (benchmarks/RESULTS.md), and decoding is that read.
/// `isa`: the widest kernel this CPU runs (kBest), or the AVX2 one (tests run both where they can).
enum class GemvIsa { kBest, kAvx2 };
bool gemv_f32(const float* x, int64_t rows, const float* w, int64_t in, int64_t out, float* y,
              GemvIsa isa = GemvIsa::kBest);
/// The same with bfloat16 weights (their bits), widened to float32 exactly as they are loaded:
/// half the bytes of gemv_f32 for the same float32 arithmetic (libtorch's bfloat16 linear on the
/// CPU also multiplies and sums in float32). The caller rounds y to bfloat16 when its model is.
bool gemv_bf16(const float* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y,
               GemvIsa isa = GemvIsa::kBest);
/// Activations and weights both bfloat16 (bits): AVX512-BF16's pairwise dot product, exact products
/// summed in float32, twice the products per instruction of gemv_bf16 and no widening; what a
/// bfloat16 model's decode step runs, since its activations are bfloat16 already. Returns false
/// (and writes nothing) on a CPU without AVX512-BF16; the caller then widens and uses gemv_bf16.
bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y);
/// The same with y rounded to bfloat16 (bits; to nearest, ties to even, as libtorch rounds): a
/// bfloat16 model's projection without a bias, with no separate conversion of its output.
bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, uint16_t* y);

}  // namespace breadth::model
