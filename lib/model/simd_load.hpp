// Loading 16 weights or cached values as float32 lanes, whatever their storage type: what the
// decode kernels (gemv.cpp, decode_attention.cpp) read through. bfloat16 is the top half of a
// float32, so widening it is a shift and exact.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace breadth::model {

__attribute__((target("avx512f"))) inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
__attribute__((target("avx512f"))) inline __m512 load16(const uint16_t* p) {
  auto wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

}  // namespace breadth::model
