// What the decode kernels (gemv.cpp, gemv_grouped.cpp, decode_attention.cpp) share: the CPU
// features they run on, asked once, loading 16 (AVX-512) or 8 (AVX2) weights or cached values as
// float32 lanes whatever their storage type (bfloat16 is the top half of a float32, so widening it
// is a shift and exact), storing a result as float32 or bfloat16, and how activation rows are split
// into register blocks.
#pragma once

#include <c10/util/BFloat16.h>
#include <immintrin.h>

#include <cstdint>

namespace breadth::model {

/// AVX-512F on this CPU (the widening kernels).
inline bool cpu_has_avx512f() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return has;
}

/// AVX2 with FMA and F16C (the eight-lane kernels, for CPUs without AVX-512: every AVX2 CPU has
/// the other two).
inline bool cpu_has_avx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  }();
  return has;
}

/// AVX512-BF16's dot product and the AVX512-BW masked loads around it (gemv_bf16_bf16).
inline bool cpu_has_avx512bf16() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
  }();
  return has;
}

__attribute__((target("avx512f"))) inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
__attribute__((target("avx512f"))) inline __m512 load16(const uint16_t* p) {
  auto wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

__attribute__((target("avx2,fma"))) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
__attribute__((target("avx2,fma"))) inline __m256 load8(const uint16_t* p) {
  auto wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

/// The sum of v's eight lanes.
__attribute__((target("avx2,fma"))) inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

/// A kernel's float32 result stored as float32, or rounded to bfloat16 bits by libtorch's own
/// conversion (to nearest, ties to even), so that a bfloat16 model needs no separate conversion op.
inline void put(float v, float* p) { *p = v; }
inline void put(float v, uint16_t* p) { *p = c10::BFloat16(v).x; }

/// Calls block(mb, m) for consecutive blocks of `rows` activation rows, m the first row of each,
/// with as few blocks of at most `most` rows as can be and their sizes as equal as can be (10 rows
/// by 4: 3 + 3 + 4, not 4 + 4 + 2: every block keeps its accumulators busy).
template <typename Block>
inline void for_each_row_block(int64_t rows, int64_t most, Block&& block) {
  const int64_t n = (rows + most - 1) / most;
  for (int64_t b = 0, m = 0; b < n; ++b) {
    const int64_t mb = (rows - m) / (n - b);
    block(mb, m);
    m += mb;
  }
}

}  // namespace breadth::model
