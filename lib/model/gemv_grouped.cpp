#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "model/gemv.hpp"
#include "model/simd_load.hpp"

// GCC 12's AVX-512 headers start some intrinsics (_mm512_reduce_add_ps, _mm512_cvtepi32_epi16) from
// a deliberately undefined vector, which its own -Wuninitialized then reports at every inlining.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace breadth::model {
namespace {

constexpr int64_t kChunk = GroupedWeight::kChunk;

// The scales and offsets of r weight rows from row o as float32: pointers into the weight when it
// stores float32, else converted once into `buf` (the rows are contiguous in [N, K/group], so this
// is one run of r * K/group values per tensor).
struct Scales {
  std::vector<float> buf;
  const float* s = nullptr;
  const float* z = nullptr;

  // `avx512`: convert 16 at a time with AVX-512F (the kernels; a software float16 conversion costs
  // about as much as a block's own arithmetic at one activation row), else one at a time.
  void load(const GroupedWeight& w, int64_t o, int64_t r, bool avx512 = true) {
    const int64_t g = w.in / w.group, n = r * g;
    if (!w.half) {
      s = static_cast<const float*>(w.scale) + o * g;
      z = static_cast<const float*>(w.offset) + o * g;
      return;
    }
    buf.resize(static_cast<size_t>(2 * n));
    const auto* hs = static_cast<const uint16_t*>(w.scale) + o * g;
    const auto* hz = static_cast<const uint16_t*>(w.offset) + o * g;
    if (avx512) {
      widen_avx512(hs, n, buf.data());
      widen_avx512(hz, n, buf.data() + n);
    } else {
      widen(hs, 0, n, buf.data());
      widen(hz, 0, n, buf.data() + n);
    }
    s = buf.data();
    z = buf.data() + n;
  }
  static void widen(const uint16_t* h, int64_t i, int64_t n, float* f) {
    for (; i < n; ++i) f[i] = static_cast<float>(c10::Half(h[i], c10::Half::from_bits()));
  }
  __attribute__((target("avx512f,f16c"))) static void widen_avx512(const uint16_t* h, int64_t n, float* f) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(f + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
    for (; i < n; ++i) f[i] = _cvtsh_ss(h[i]);
  }
};

// Chunk c's 32 weights of one row, w = scale * q + offset with a single rounding (fma): for the
// GGUF types that reach here q * scale is exact (at most 8 + 11 significant bits, 6 + 18 for the K
// types' products of two scales), so these are the float path's dequantized float32 values bit for
// bit.
template <int BITS>
__attribute__((target("avx512f"))) inline void chunk_weights(const uint8_t* row, int64_t c, __m512 sa, __m512 za,
                                                             __m512 sb, __m512 zb, __m512& a, __m512& b) {
  // Chunk c's 32 weights as two vectors: a (elements 0-15) with scale sa and offset za, b (16-31)
  // with sb and zb (the same pair unless groups are 16).
  if constexpr (BITS == 4) {
    // Byte j of a chunk holds q_j (low nibble) and q_{j+16} (high nibble), as GGUF's Q4 blocks do.
    const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c * 16)));
    a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, _mm512_set1_epi32(15))), sa, za);
    b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), sb, zb);
  } else {
    const auto* p = reinterpret_cast<const __m128i*>(row + c * 32);
    a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p))), sa, za);
    b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p + 1))), sb, zb);
  }
}

// Scale and offset of chunk c's two halves from one row's per-group arrays (SPLIT = 32 / group).
template <int SPLIT>
__attribute__((target("avx512f"))) inline void chunk_scales(const float* s, const float* z, int64_t c, __m512& sa,
                                                            __m512& za, __m512& sb, __m512& zb) {
  sa = _mm512_set1_ps(s[c * SPLIT]);
  za = _mm512_set1_ps(z[c * SPLIT]);
  sb = SPLIT == 1 ? sa : _mm512_set1_ps(s[c * SPLIT + SPLIT - 1]);
  zb = SPLIT == 1 ? za : _mm512_set1_ps(z[c * SPLIT + SPLIT - 1]);
}

// R weight rows x MB activation rows: each chunk's weights are made once per row and used for MB
// activation rows (R = 4, MB = 4: 16 accumulators, 8 activation vectors, 2 weight vectors, scale
// and offset: 28 of the 32 registers).
// s, z: the scales and offsets of rows o.. (K/group per row).
template <int BITS, int SPLIT, int R, int MB, typename X, typename Y>
__attribute__((target("avx512f"))) inline void block_grouped(const X* x, const GroupedWeight& w, const float* s,
                                                             const float* z, Y* y, int64_t o, int64_t m0) {
  const int64_t in = w.in, chunks = in / kChunk, per_row = chunks * SPLIT, row_bytes = in * BITS / 8;
  __m512 acc[R][MB];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < chunks; ++c) {
    __m512 xa[MB], xb[MB];
#pragma GCC unroll 4
    for (int j = 0; j < MB; ++j) {
      xa[j] = load16(x + (m0 + j) * in + c * kChunk);
      xb[j] = load16(x + (m0 + j) * in + c * kChunk + 16);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const uint8_t* row = w.codes + (o + r) * row_bytes;
      // The next block's rows, as in gemv.cpp: short rows hide the stream from the prefetcher.
      _mm_prefetch(reinterpret_cast<const char*>(row + R * row_bytes + c * (BITS * 4)), _MM_HINT_T0);
      __m512 sa, za, sb, zb, a, b;
      chunk_scales<SPLIT>(s + r * per_row, z + r * per_row, c, sa, za, sb, zb);
      chunk_weights<BITS>(row, c, sa, za, sb, zb, a, b);
#pragma GCC unroll 4
      for (int j = 0; j < MB; ++j) {
        acc[r][j] = _mm512_fmadd_ps(a, xa[j], acc[r][j]);
        acc[r][j] = _mm512_fmadd_ps(b, xb[j], acc[r][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < MB; ++j) put(_mm512_reduce_add_ps(acc[r][j]), y + (m0 + j) * w.out + o + r);
}

template <int BITS, int SPLIT, int R, typename X, typename Y>
__attribute__((target("avx512f"))) inline void block_rows(int64_t mb, const X* x, const GroupedWeight& w,
                                                          const float* s, const float* z, Y* y, int64_t o,
                                                          int64_t m) {
  switch (mb) {
    case 4: return block_grouped<BITS, SPLIT, R, 4, X, Y>(x, w, s, z, y, o, m);
    case 3: return block_grouped<BITS, SPLIT, R, 3, X, Y>(x, w, s, z, y, o, m);
    case 2: return block_grouped<BITS, SPLIT, R, 2, X, Y>(x, w, s, z, y, o, m);
    default: return block_grouped<BITS, SPLIT, R, 1, X, Y>(x, w, s, z, y, o, m);
  }
}

template <int BITS, int SPLIT, typename X, typename Y>
__attribute__((target("avx512f"))) void rows_grouped(const X* x, int64_t rows, const GroupedWeight& w, Y* y,
                                                     int64_t begin, int64_t end) {
  // Scales converted for 64 weight rows at a time (one conversion run, few tails); activation rows
  // in near-equal blocks of at most 4.
  Scales sc;
  const int64_t per_row = w.in / w.group;
  for (int64_t first = begin; first < end; first += 64) {
    const int64_t last = std::min(end, first + 64);
    sc.load(w, first, last - first);
    int64_t o = first;
    for (; o + 4 <= last; o += 4) {
      const float *s = sc.s + (o - first) * per_row, *z = sc.z + (o - first) * per_row;
      for_each_row_block(rows, 4, [&](int64_t mb, int64_t m) { block_rows<BITS, SPLIT, 4>(mb, x, w, s, z, y, o, m); });
    }
    for (; o < last; ++o) {
      const float *s = sc.s + (o - first) * per_row, *z = sc.z + (o - first) * per_row;
      for_each_row_block(rows, 4, [&](int64_t mb, int64_t m) { block_rows<BITS, SPLIT, 1>(mb, x, w, s, z, y, o, m); });
    }
  }
}

// Calls f(bits, split) with w's code width and scales per chunk as compile-time constants (the
// forms the kernels are built for: 4-bit with groups of 32, 8-bit with groups of 32 or 16).
template <typename F>
void with_form(const GroupedWeight& w, F&& f) {
  using std::integral_constant;
  if (w.bits == 4)
    f(integral_constant<int, 4>{}, integral_constant<int, 1>{});
  else if (w.group == kChunk)
    f(integral_constant<int, 8>{}, integral_constant<int, 1>{});
  else
    f(integral_constant<int, 8>{}, integral_constant<int, 2>{});
}

template <typename X, typename Y>
bool run(const X* x, int64_t rows, const GroupedWeight& w, Y* y) {
  if (!cpu_has_avx512f() || rows < 1 || rows > kGemvMaxRows) return false;
  at::parallel_for(0, w.out, 32, [&](int64_t b, int64_t e) {
    with_form(w, [&](auto bits, auto split) { rows_grouped<bits, split>(x, rows, w, y, b, e); });
  });
  return true;
}

// Rows [begin, end) as floats, the values chunk_weights makes; bfloat16 output is rounded to nearest,
// ties to even (libtorch's .to(bfloat16) of the float path's weights).
__attribute__((target("avx512f"))) inline void store16(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
__attribute__((target("avx512f"))) inline void store16(c10::BFloat16* p, __m512 v) {
  const __m512i bits = _mm512_castps_si512(v);
  const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), odd)), 16);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(r));
}

template <int BITS, int SPLIT, typename Out>
__attribute__((target("avx512f"))) void dequantize_rows_avx512(const GroupedWeight& w, int64_t begin, int64_t end,
                                                               Out* out) {
  const int64_t in = w.in, chunks = in / kChunk, row_bytes = in * BITS / 8;
  Scales sc;
  for (int64_t o = begin; o < end; ++o) {
    sc.load(w, o, 1);
    const uint8_t* row = w.codes + o * row_bytes;
    Out* dst = out + (o - begin) * in;
    for (int64_t c = 0; c < chunks; ++c) {
      __m512 sa, za, sb, zb, a, b;
      chunk_scales<SPLIT>(sc.s, sc.z, c, sa, za, sb, zb);
      chunk_weights<BITS>(row, c, sa, za, sb, zb, a, b);
      store16(dst + c * kChunk, a);
      store16(dst + c * kChunk + 16, b);
    }
  }
}

// Without AVX-512: the same values one at a time (std::fma rounds once, as the vector FMA does).
template <typename Out>
void dequantize_rows_scalar(const GroupedWeight& w, int64_t begin, int64_t end, Out* out) {
  const int64_t in = w.in, row_bytes = in * w.bits / 8;
  Scales sc;
  for (int64_t o = begin; o < end; ++o) {
    sc.load(w, o, 1, false);
    const uint8_t* row = w.codes + o * row_bytes;
    Out* dst = out + (o - begin) * in;
    for (int64_t k = 0; k < in; ++k) {
      int q;
      if (w.bits == 4) {
        const uint8_t byte = row[k / kChunk * 16 + (k & 15)];
        q = k % kChunk < 16 ? byte & 15 : byte >> 4;
      } else {
        q = static_cast<int8_t>(row[k]);
      }
      dst[k] = static_cast<Out>(std::fma(static_cast<float>(q), sc.s[k / w.group], sc.z[k / w.group]));
    }
  }
}

template <typename Out>
void dequantize(const GroupedWeight& w, int64_t begin, int64_t end, Out* out) {
  at::parallel_for(begin, end, 16, [&](int64_t b, int64_t e) {
    Out* dst = out + (b - begin) * w.in;
    if (!cpu_has_avx512f())
      dequantize_rows_scalar(w, b, e, dst);
    else
      with_form(w, [&](auto bits, auto split) { dequantize_rows_avx512<bits, split>(w, b, e, dst); });
  });
}

}  // namespace

bool gemv_grouped(const float* x, int64_t rows, const GroupedWeight& w, float* y) { return run(x, rows, w, y); }
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, float* y) { return run(x, rows, w, y); }
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, uint16_t* y) {
  return run(x, rows, w, y);
}

void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, float* out) {
  dequantize(w, begin, end, out);
}
void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, c10::BFloat16* out) {
  dequantize(w, begin, end, out);
}

}  // namespace breadth::model
