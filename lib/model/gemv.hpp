// y = x W^T for a few rows of activations on the CPU: the decode step's projections.
#pragma once

#include <c10/util/BFloat16.h>

#include <cstdint>

namespace breadth::model {

/// Which instruction set a CPU kernel here (and decode_attention's) runs: the widest this CPU has
/// (kBest: AVX-512F, else AVX2), or AVX2 even where AVX-512F is there, so that tests on an AVX-512
/// machine check both.
enum class CpuIsa { kBest, kAvx2 };

/// The most activation rows gemv_f32 takes: each weight row is read from memory once and used for
/// every activation row while it sits in L1, which pays while the rows fit beside it.
constexpr int64_t kGemvMaxRows = 16;

/// y[m, o] = sum_k x[m, k] w[o, k] for m < rows <= kGemvMaxRows, all row-major and contiguous, split
/// over libtorch's intra-op threads by output rows. Returns false (and writes nothing) when this CPU
/// has neither AVX-512F nor AVX2 with FMA; the caller then uses libtorch's linear. Why it exists:
/// libtorch's float32 linear at one row is MKL's sgemv, which reads weights at about half the rate
/// of this loop on AMD EPYC (benchmarks/RESULTS.md), and decoding is that read.
/// `isa`: the widest kernel this CPU runs (kBest), or the AVX2 one (tests run both where they can).
bool gemv_f32(const float* x, int64_t rows, const float* w, int64_t in, int64_t out, float* y,
              CpuIsa isa = CpuIsa::kBest);
/// The same with bfloat16 weights (their bits), widened to float32 exactly as they are loaded:
/// half the bytes of gemv_f32 for the same float32 arithmetic (libtorch's bfloat16 linear on the
/// CPU also multiplies and sums in float32). The caller rounds y to bfloat16 when its model is.
bool gemv_bf16(const float* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y,
               CpuIsa isa = CpuIsa::kBest);
/// Activations and weights both bfloat16 (bits): AVX512-BF16's pairwise dot product, exact products
/// summed in float32, twice the products per instruction of gemv_bf16 and no widening; what a
/// bfloat16 model's decode step runs, since its activations are bfloat16 already. Returns false
/// (and writes nothing) on a CPU without AVX512-BF16; the caller then widens and uses gemv_bf16.
bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y);
/// The same with y rounded to bfloat16 (bits; to nearest, ties to even, as libtorch rounds): a
/// bfloat16 model's projection without a bias, with no separate conversion of its output.
bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, uint16_t* y);

/// A weight [out, in] kept as a GGUF file stores it: small integers q with a float scale and offset
/// per group of `group` elements along `in`, w = scale * q + offset (GroupQuantized in the kernels'
/// layout). The kernels step through `in` 32 at a time (a chunk).
struct GroupedWeight {
  static constexpr int64_t kChunk = 32;
  /// Elements per super-block of two-level scales (io::kGroupSuperElems).
  static constexpr int64_t kSuper = 256;
  int bits = 4;         ///< 2..6: q in [0, 2^bits); 8: q in [-128, 127]
  int64_t group = 32;   ///< 32, or 16 (two scales per chunk)
  /// Row o's chunk c at codes + (o * in / 32 + c) * 4 * bits: 8 bits, 32 int8; fewer, a base plane
  /// of the low bits (4 bits: 16 bytes, byte j holding q_j low and q_{16+j} high, GGUF's own order;
  /// 2 bits: 8 bytes, byte j holding q_j, q_{8+j}, q_{16+j}, q_{24+j} from its low bits up) and then
  /// one little-endian uint32 per bit above it, bit i for q_i (GGUF's qh): 2 + 1 bits for Q3_K,
  /// 4 + 1 for the Q5 types, 4 + 2 for Q6_K.
  const uint8_t* codes = nullptr;
  /// How the scales are held: float16 or float32 per group (`scale`, `offset`: [out, in/group]),
  /// or two levels as a K type stores them (`super_*` [out, in/256] float32 times `sub_*`
  /// [out, in/group] int8, sub_offset null where offsets share sub_scale; exact products).
  enum class Scales { kHalf, kFloat, kFactored };
  Scales scales = Scales::kHalf;
  const void* scale = nullptr;
  const void* offset = nullptr;
  const float* super_scale = nullptr;
  const float* super_offset = nullptr;
  const int8_t* sub_scale = nullptr;
  const int8_t* sub_offset = nullptr;
  int64_t in = 0, out = 0;  ///< in a multiple of 32 (of 256 with factored scales)

  /// Bytes of one row's codes.
  int64_t row_bytes() const { return in / kChunk * 4 * bits; }
};

/// y = x W^T with W's weights made in registers as they are read (scale * q + offset, rounded once:
/// the float path's dequantized values exactly for every type io::split_groups takes), every
/// product and sum in float32. So a GGUF model keeps its file's size in memory and computes what expanding its weights
/// to float32 computes, up to the order of the additions; libtorch's own 4-bit kernel is fast only
/// with bfloat16 activations, scales and output, too coarse for a float32 model's greedy tokens.
/// x: float32, or bfloat16 bits (a bfloat16 model's activations, widened exactly); y: float32, or
/// rounded to bfloat16 bits. AVX-512F kernels, or AVX2 ones (FMA, F16C) eight lanes wide on CPUs
/// without it (`isa` kAvx2 picks those on any CPU: tests run both where they can). Returns false
/// (and writes nothing) on a CPU with neither, or when rows is outside [1, kGemvMaxRows]; the
/// caller then dequantizes and multiplies.
bool gemv_grouped(const float* x, int64_t rows, const GroupedWeight& w, float* y, CpuIsa isa = CpuIsa::kBest);
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, float* y,
                  CpuIsa isa = CpuIsa::kBest);
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, uint16_t* y,
                  CpuIsa isa = CpuIsa::kBest);

/// Rows [begin, end) of W as float32, or as bfloat16 rounded to nearest (what expanding the
/// weights to the model's dtype gives), into out [end - begin, in]; the same values gemv_grouped
/// uses, made by the same instruction set (one element at a time on a CPU without AVX2).
void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, float* out,
                        CpuIsa isa = CpuIsa::kBest);
void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, c10::BFloat16* out,
                        CpuIsa isa = CpuIsa::kBest);

/// The same two on a CUDA device (gemv_grouped.cu, built only with BREADTH_CUDA; callers check
/// BREADTH_WITH_CUDA): x, y, out and w's arrays in that device's memory, launched on `stream` (a
/// cudaStream_t) without waiting. Each weight and each float32 sum are made as on the CPU (the
/// additions in another order). gemv_grouped_cuda returns false (launching nothing) when rows is
/// outside [1, kGemvMaxRows], or when the launch failed. bfloat16 as bits, as above.
bool gemv_grouped_cuda(const float* x, int64_t rows, const GroupedWeight& w, float* y, void* stream);
bool gemv_grouped_cuda(const uint16_t* x, int64_t rows, const GroupedWeight& w, float* y, void* stream);
bool gemv_grouped_cuda(const uint16_t* x, int64_t rows, const GroupedWeight& w, uint16_t* y, void* stream);
void dequantize_grouped_cuda(const GroupedWeight& w, int64_t begin, int64_t end, float* out, void* stream);
void dequantize_grouped_cuda(const GroupedWeight& w, int64_t begin, int64_t end, uint16_t* out, void* stream);

}  // namespace breadth::model
