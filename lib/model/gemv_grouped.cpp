#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "model/gemv.hpp"
#include "model/grouped_form.hpp"
#include "model/simd_load.hpp"

// GCC 12's AVX-512 headers start some intrinsics (_mm512_reduce_add_ps, _mm512_cvtepi32_epi16) from
// a deliberately undefined vector, which its own -Wuninitialized then reports at every inlining.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace breadth::model {
namespace {

constexpr int64_t kChunk = GroupedWeight::kChunk;
using ScaleForm = GroupedWeight::Scales;

// The kernels a call runs: AVX-512F's, AVX2's (eight lanes, for CPUs without AVX-512, or asked
// for by CpuIsa::kAvx2), or none (gemv_grouped declines; dequantize_grouped goes one at a time).
enum class Isa { kAvx512, kAvx2, kNone };
Isa isa_for(CpuIsa want) {
  if (want == CpuIsa::kBest && cpu_has_avx512f()) return Isa::kAvx512;
  return cpu_has_avx2() ? Isa::kAvx2 : Isa::kNone;
}

// The scales and offsets of r weight rows from row o as float32: pointers into the weight when it
// stores float32, else made once into `buf` (the rows are contiguous in [N, K/group], so this is
// one run of r * K/group values per tensor): float16 widened, or two-level scales multiplied out
// (exact products: the floats io::split_groups gives).
struct Scales {
  std::vector<float> buf;
  const float* s = nullptr;
  const float* z = nullptr;

  // 16 at a time with AVX-512F, 8 with AVX2 (the kernels; a software conversion costs about as
  // much as a block's own arithmetic at one activation row), else one at a time.
  void load(const GroupedWeight& w, int64_t o, int64_t r, Isa isa) {
    const int64_t g = w.in / w.group, n = r * g;
    if (w.scales == ScaleForm::kFloat) {
      s = static_cast<const float*>(w.scale) + o * g;
      z = static_cast<const float*>(w.offset) + o * g;
      return;
    }
    buf.resize(static_cast<size_t>(2 * n));
    float *bs = buf.data(), *bz = buf.data() + n;
    s = bs;
    z = bz;
    if (w.scales == ScaleForm::kHalf) {
      const auto* hs = static_cast<const uint16_t*>(w.scale) + o * g;
      const auto* hz = static_cast<const uint16_t*>(w.offset) + o * g;
      if (isa == Isa::kAvx512) {
        widen_avx512(hs, n, bs);
        widen_avx512(hz, n, bz);
      } else if (isa == Isa::kAvx2) {
        widen_avx2(hs, n, bs);
        widen_avx2(hz, n, bz);
      } else {
        widen(hs, 0, n, bs);
        widen(hz, 0, n, bz);
      }
      return;
    }
    // Two levels: group i of the run belongs to super-block i / per_super of the same run, since a
    // row's groups are whole super-blocks.
    const int64_t per_super = GroupedWeight::kSuper / w.group, supers = w.in / GroupedWeight::kSuper;
    const int8_t* a = w.sub_scale + o * g;
    const int8_t* b = (w.sub_offset ? w.sub_offset : w.sub_scale) + o * g;
    const float* ds = w.super_scale + o * supers;
    const float* dz = w.super_offset + o * supers;
    if (isa == Isa::kAvx512) {
      multiply_avx512(ds, a, per_super, n, bs);
      multiply_avx512(dz, b, per_super, n, bz);
    } else if (isa == Isa::kAvx2) {
      multiply_avx2(ds, a, per_super, n, bs);
      multiply_avx2(dz, b, per_super, n, bz);
    } else {
      multiply(ds, a, per_super, 0, n, bs);
      multiply(dz, b, per_super, 0, n, bz);
    }
  }
  static void widen(const uint16_t* h, int64_t i, int64_t n, float* f) {
    for (; i < n; ++i) f[i] = static_cast<float>(c10::Half(h[i], c10::Half::from_bits()));
  }
  __attribute__((target("avx512f,f16c"))) static void widen_avx512(const uint16_t* h, int64_t n, float* f) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(f + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i))));
    widen(h, i, n, f);
  }
  __attribute__((target("avx2,f16c"))) static void widen_avx2(const uint16_t* h, int64_t n, float* f) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    widen(h, i, n, f);
  }
  static void multiply(const float* d, const int8_t* q, int64_t per, int64_t i, int64_t n, float* f) {
    for (; i < n; ++i) f[i] = d[i / per] * static_cast<float>(q[i]);
  }
  // per: 16 (a vector is one super-block's groups) or 8 (two super-blocks').
  __attribute__((target("avx512f"))) static void multiply_avx512(const float* d, const int8_t* q, int64_t per,
                                                                  int64_t n, float* f) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m128i q8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
      const __m512 qv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q8));
      const __m512 dv =
          per == 16 ? _mm512_set1_ps(d[i / 16])
                    : _mm512_mask_blend_ps(0xff00, _mm512_set1_ps(d[i / 8]), _mm512_set1_ps(d[i / 8 + 1]));
      _mm512_storeu_ps(f + i, _mm512_mul_ps(dv, qv));
    }
    multiply(d, q, per, i, n, f);
  }
  // per: 16 or 8, so eight groups from a multiple of 8 share one super-block.
  __attribute__((target("avx2"))) static void multiply_avx2(const float* d, const int8_t* q, int64_t per, int64_t n,
                                                             float* f) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m128i q8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
      const __m256 qv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q8));
      _mm256_storeu_ps(f + i, _mm256_mul_ps(_mm256_set1_ps(d[i / per]), qv));
    }
    multiply(d, q, per, i, n, f);
  }
};

// The 32 codes of the chunk at p as two vectors of int32: qa (elements 0-15) and qb (16-31), in
// the layout GroupedWeight describes.
template <int BITS>
__attribute__((target("avx512f"))) inline void chunk_codes(const uint8_t* p, __m512i& qa, __m512i& qb) {
  if constexpr (BITS == 8) {
    qa = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    qb = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)));
  } else {
    constexpr int kBase = BITS < 4 ? 2 : 4;
    if constexpr (kBase == 4) {
      const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
      qa = _mm512_and_si512(v, _mm512_set1_epi32(15));
      qb = _mm512_srli_epi32(v, 4);
    } else {
      // Bytes 0-7 in lanes 0-7 and again in 8-15: lane i's code sits at bit 2 (i / 8) of its byte
      // for qa, 4 + 2 (i / 8) for qb.
      int64_t bytes;
      std::memcpy(&bytes, p, 8);
      const __m512i v = _mm512_cvtepu8_epi32(_mm_set1_epi64x(bytes));
      const __m512i three = _mm512_set1_epi32(3);
      const __m512i shift_a = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);
      qa = _mm512_and_si512(_mm512_srlv_epi32(v, shift_a), three);
      qb = _mm512_and_si512(_mm512_srlv_epi32(v, _mm512_add_epi32(shift_a, _mm512_set1_epi32(4))), three);
    }
    // The bits above the base plane: bit i of plane h is bit kBase + h of code i.
#pragma GCC unroll 2
    for (int h = 0; h < BITS - kBase; ++h) {
      uint32_t plane;
      std::memcpy(&plane, p + 4 * kBase + 4 * h, 4);
      const __m512i bit = _mm512_set1_epi32(1 << (kBase + h));
      qa = _mm512_mask_or_epi32(qa, static_cast<__mmask16>(plane), qa, bit);
      qb = _mm512_mask_or_epi32(qb, static_cast<__mmask16>(plane >> 16), qb, bit);
    }
  }
}

// Chunk c's 32 weights of one row, w = scale * q + offset with a single rounding (fma): for the
// GGUF types that reach here q * scale is exact (at most 8 + 11 significant bits; 6 + 8 + 11 for
// the K types' products of two scales), so these are the float path's dequantized float32 values
// bit for bit: a (elements 0-15) with scale sa and offset za, b (16-31) with sb and zb (the same
// pair unless groups are 16).
template <int BITS>
__attribute__((target("avx512f"))) inline void chunk_weights(const uint8_t* row, int64_t c, __m512 sa, __m512 za,
                                                             __m512 sb, __m512 zb, __m512& a, __m512& b) {
  __m512i qa, qb;
  chunk_codes<BITS>(row + c * (4 * BITS), qa, qb);
  a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(qa), sa, za);
  b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(qb), sb, zb);
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
  const int64_t in = w.in, chunks = in / kChunk, per_row = chunks * SPLIT, row_bytes = w.row_bytes();
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
      _mm_prefetch(reinterpret_cast<const char*>(row + R * row_bytes + c * (4 * BITS)), _MM_HINT_T0);
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

// One activation row: each weight row in turn, its chunks two at a time into four accumulators, so
// that the codes are read as the single sequential stream they lie in (as gemv.cpp's one-row
// kernels; blocks of 4 rows pay off when several activation rows reuse each made weight). A/B of
// 2026-12-07, batch-1 decode, three rounds: SmolLM2's Q4_1 file +4-11%, its Q4_K_M file +3-10%.
template <int BITS, int SPLIT, typename X, typename Y>
__attribute__((target("avx512f"))) inline void one_row_grouped(const X* x, const GroupedWeight& w, const float* s,
                                                               const float* z, Y* y, int64_t o) {
  const int64_t in = w.in, chunks = in / kChunk;
  const uint8_t* row = w.codes + o * w.row_bytes();
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  // Chunk c's two halves into accumulators u and u + 1.
  auto chunk = [&](int64_t c, int u) __attribute__((always_inline, target("avx512f"))) {
    __m512 sa, za, sb, zb, a, b;
    chunk_scales<SPLIT>(s, z, c, sa, za, sb, zb);
    chunk_weights<BITS>(row, c, sa, za, sb, zb, a, b);
    acc[u] = _mm512_fmadd_ps(a, load16(x + c * kChunk), acc[u]);
    acc[u + 1] = _mm512_fmadd_ps(b, load16(x + c * kChunk + 16), acc[u + 1]);
  };
  int64_t c = 0;
  for (; c + 2 <= chunks; c += 2) {
    chunk(c, 0);
    chunk(c + 1, 2);
  }
  if (c < chunks) chunk(c, 0);
  put(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))), y + o);
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
  // Scales converted for 64 weight rows at a time (one conversion run, few tails); one activation
  // row by one_row_grouped, more in near-equal blocks of at most 4.
  Scales sc;
  const int64_t per_row = w.in / w.group;
  for (int64_t first = begin; first < end; first += 64) {
    const int64_t last = std::min(end, first + 64);
    sc.load(w, first, last - first, Isa::kAvx512);
    if (rows == 1) {
      for (int64_t o = first; o < last; ++o)
        one_row_grouped<BITS, SPLIT>(x, w, sc.s + (o - first) * per_row, sc.z + (o - first) * per_row, y, o);
      continue;
    }
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
  const int64_t in = w.in, chunks = in / kChunk, row_bytes = w.row_bytes();
  Scales sc;
  for (int64_t o = begin; o < end; ++o) {
    sc.load(w, o, 1, Isa::kAvx512);
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

// The same kernels eight lanes wide, for CPUs with AVX2 but no AVX-512 (AMD's Zen 1-3, Intel's
// client cores): the same weights bit for bit (one FMA each), the sums in another order. Without
// them such a CPU dequantized a whole projection per decode step, element by element (SmolLM2's
// Q4_1 file at 2 tok/s on a 2-core AVX2 EPYC, where its float32 copy ran at 42).
#define BREADTH_AVX2 __attribute__((target("avx2,fma,f16c")))

// The 32 codes of the chunk at p as four vectors of int32: q[t] holds elements 8t..8t+7.
template <int BITS>
BREADTH_AVX2 inline void chunk_codes8(const uint8_t* p, __m256i (&q)[4]) {
  auto bytes8 = [](const uint8_t* b) __attribute__((always_inline, target("avx2"))) {
    return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b));
  };
  if constexpr (BITS == 8) {
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) q[t] = _mm256_cvtepi8_epi32(bytes8(p + 8 * t));
  } else {
    constexpr int kBase = BITS < 4 ? 2 : 4;
    if constexpr (kBase == 4) {
      // Byte j holds q_j low and q_{16+j} high.
      const __m256i lo = _mm256_cvtepu8_epi32(bytes8(p)), hi = _mm256_cvtepu8_epi32(bytes8(p + 8));
      const __m256i fifteen = _mm256_set1_epi32(15);
      q[0] = _mm256_and_si256(lo, fifteen);
      q[1] = _mm256_and_si256(hi, fifteen);
      q[2] = _mm256_srli_epi32(lo, 4);
      q[3] = _mm256_srli_epi32(hi, 4);
    } else {
      // Byte j holds q_{8t+j} at bit 2t.
      const __m256i v = _mm256_cvtepu8_epi32(bytes8(p));
      const __m256i three = _mm256_set1_epi32(3);
      q[0] = _mm256_and_si256(v, three);
      q[1] = _mm256_and_si256(_mm256_srli_epi32(v, 2), three);
      q[2] = _mm256_and_si256(_mm256_srli_epi32(v, 4), three);
      q[3] = _mm256_srli_epi32(v, 6);
    }
    // Bit i of plane h is bit kBase + h of code i: lane j of q[t] takes bit 8t + j.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), one = _mm256_set1_epi32(1);
#pragma GCC unroll 2
    for (int h = 0; h < BITS - kBase; ++h) {
      uint32_t plane;
      std::memcpy(&plane, p + 4 * kBase + 4 * h, 4);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) {
        const __m256i bit = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(plane >> (8 * t))),
                                                               lane), one);
        q[t] = _mm256_or_si256(q[t], _mm256_slli_epi32(bit, kBase + h));
      }
    }
  }
}

// Chunk c's 32 weights of one row as four vectors, w = scale * q + offset rounded once (as
// chunk_weights): elements 0-15 take group c * SPLIT's scale and offset, 16-31 the chunk's last.
template <int BITS, int SPLIT>
BREADTH_AVX2 inline void chunk_weights8(const uint8_t* row, int64_t c, const float* s, const float* z, __m256 (&w)[4]) {
  __m256i q[4];
  chunk_codes8<BITS>(row + c * (4 * BITS), q);
  const __m256 sa = _mm256_set1_ps(s[c * SPLIT]), za = _mm256_set1_ps(z[c * SPLIT]);
  const __m256 sb = SPLIT == 1 ? sa : _mm256_set1_ps(s[c * SPLIT + SPLIT - 1]);
  const __m256 zb = SPLIT == 1 ? za : _mm256_set1_ps(z[c * SPLIT + SPLIT - 1]);
  w[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[0]), sa, za);
  w[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[1]), sa, za);
  w[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[2]), sb, zb);
  w[3] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q[3]), sb, zb);
}

// One activation row: the row's codes as one sequential stream, a chunk's four vectors into four
// accumulators.
template <int BITS, int SPLIT, typename X, typename Y>
BREADTH_AVX2 inline void one_row_avx2(const X* x, const GroupedWeight& w, const float* s, const float* z, Y* y,
                                      int64_t o) {
  const int64_t chunks = w.in / kChunk;
  const uint8_t* row = w.codes + o * w.row_bytes();
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t c = 0; c < chunks; ++c) {
    __m256 wv[4];
    chunk_weights8<BITS, SPLIT>(row, c, s, z, wv);
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) acc[t] = _mm256_fmadd_ps(wv[t], load8(x + c * kChunk + 8 * t), acc[t]);
  }
  put(sum8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))), y + o);
}

// MB activation rows from m0 against one weight row made into `wrow` (in floats, in L1): each
// loaded weight vector feeds MB FMAs, two accumulators per row hide their latency (16 registers:
// 2 MB accumulators, MB activations, one weight).
template <int MB, typename X, typename Y>
BREADTH_AVX2 inline void rows_against(const float* wrow, const X* x, int64_t in, int64_t out, Y* y, int64_t o,
                                      int64_t m0) {
  __m256 acc[2][MB];
#pragma GCC unroll 4
  for (int j = 0; j < MB; ++j) acc[0][j] = acc[1][j] = _mm256_setzero_ps();
  for (int64_t k = 0; k < in; k += 16) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256 wv = _mm256_loadu_ps(wrow + k + 8 * h);
#pragma GCC unroll 4
      for (int j = 0; j < MB; ++j) acc[h][j] = _mm256_fmadd_ps(wv, load8(x + (m0 + j) * in + k + 8 * h), acc[h][j]);
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < MB; ++j) put(sum8(_mm256_add_ps(acc[0][j], acc[1][j])), y + (m0 + j) * out + o);
}

template <int BITS, int SPLIT, typename X, typename Y>
BREADTH_AVX2 void rows_grouped_avx2(const X* x, int64_t rows, const GroupedWeight& w, Y* y, int64_t begin,
                                    int64_t end) {
  const int64_t in = w.in, chunks = in / kChunk, per_row = in / w.group;
  Scales sc;
  // Several activation rows: each weight row is made once into this buffer and read from L1 by all.
  std::vector<float> wrow(rows > 1 ? static_cast<size_t>(in) : 0);
  for (int64_t first = begin; first < end; first += 64) {
    const int64_t last = std::min(end, first + 64);
    sc.load(w, first, last - first, Isa::kAvx2);
    for (int64_t o = first; o < last; ++o) {
      const float *s = sc.s + (o - first) * per_row, *z = sc.z + (o - first) * per_row;
      if (rows == 1) {
        one_row_avx2<BITS, SPLIT>(x, w, s, z, y, o);
        continue;
      }
      const uint8_t* row = w.codes + o * w.row_bytes();
      for (int64_t c = 0; c < chunks; ++c) {
        __m256 wv[4];
        chunk_weights8<BITS, SPLIT>(row, c, s, z, wv);
#pragma GCC unroll 4
        for (int t = 0; t < 4; ++t) _mm256_storeu_ps(wrow.data() + c * kChunk + 8 * t, wv[t]);
      }
      for_each_row_block(rows, 4, [&](int64_t mb, int64_t m) {
        switch (mb) {
          case 4: return rows_against<4>(wrow.data(), x, in, w.out, y, o, m);
          case 3: return rows_against<3>(wrow.data(), x, in, w.out, y, o, m);
          case 2: return rows_against<2>(wrow.data(), x, in, w.out, y, o, m);
          default: return rows_against<1>(wrow.data(), x, in, w.out, y, o, m);
        }
      });
    }
  }
}

// Eight float32 lanes stored as float32, or rounded to bfloat16 as store16 rounds.
BREADTH_AVX2 inline void store8(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
BREADTH_AVX2 inline void store8(c10::BFloat16* p, __m256 v) {
  const __m256i bits = _mm256_castps_si256(v);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i r = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(_mm256_set1_epi32(0x7fff), odd)), 16);
  // Pack within each 128-bit half, then take the low 64 bits of each half.
  const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}

template <int BITS, int SPLIT, typename Out>
BREADTH_AVX2 void dequantize_rows_avx2(const GroupedWeight& w, int64_t begin, int64_t end, Out* out) {
  const int64_t in = w.in, chunks = in / kChunk, row_bytes = w.row_bytes();
  Scales sc;
  for (int64_t o = begin; o < end; ++o) {
    sc.load(w, o, 1, Isa::kAvx2);
    const uint8_t* row = w.codes + o * row_bytes;
    Out* dst = out + (o - begin) * in;
    for (int64_t c = 0; c < chunks; ++c) {
      __m256 wv[4];
      chunk_weights8<BITS, SPLIT>(row, c, sc.s, sc.z, wv);
#pragma GCC unroll 4
      for (int t = 0; t < 4; ++t) store8(dst + c * kChunk + 8 * t, wv[t]);
    }
  }
}
#undef BREADTH_AVX2

// Code k of a row, read one element at a time from the layout GroupedWeight describes.
inline int code_at(const uint8_t* row, int64_t k, int bits) {
  const uint8_t* p = row + k / kChunk * 4 * bits;
  const int j = static_cast<int>(k % kChunk);
  if (bits == 8) return static_cast<int8_t>(p[j]);
  const int base = bits < 4 ? 2 : 4;
  int q = base == 4 ? (j < 16 ? p[j] & 15 : p[j - 16] >> 4) : (p[j & 7] >> (2 * (j >> 3))) & 3;
  for (int h = 0; h < bits - base; ++h) {
    uint32_t plane;
    std::memcpy(&plane, p + 4 * base + 4 * h, 4);
    q |= static_cast<int>((plane >> j) & 1u) << (base + h);
  }
  return q;
}

// Without AVX2: the same values one at a time (std::fma rounds once, as the vector FMA does).
template <typename Out>
void dequantize_rows_scalar(const GroupedWeight& w, int64_t begin, int64_t end, Out* out) {
  const int64_t in = w.in, row_bytes = w.row_bytes();
  Scales sc;
  for (int64_t o = begin; o < end; ++o) {
    sc.load(w, o, 1, Isa::kNone);
    const uint8_t* row = w.codes + o * row_bytes;
    Out* dst = out + (o - begin) * in;
    for (int64_t k = 0; k < in; ++k) {
      const auto q = static_cast<float>(code_at(row, k, w.bits));
      dst[k] = static_cast<Out>(std::fma(q, sc.s[k / w.group], sc.z[k / w.group]));
    }
  }
}

template <typename X, typename Y>
bool run(const X* x, int64_t rows, const GroupedWeight& w, Y* y, CpuIsa want) {
  const Isa isa = isa_for(want);
  if (isa == Isa::kNone || rows < 1 || rows > kGemvMaxRows) return false;
  at::parallel_for(0, w.out, 32, [&](int64_t b, int64_t e) {
    with_form(w, [&](auto bits, auto split) {
      if (isa == Isa::kAvx512)
        rows_grouped<bits, split>(x, rows, w, y, b, e);
      else
        rows_grouped_avx2<bits, split>(x, rows, w, y, b, e);
    });
  });
  return true;
}

template <typename Out>
void dequantize(const GroupedWeight& w, int64_t begin, int64_t end, Out* out, CpuIsa want) {
  const Isa isa = isa_for(want);
  at::parallel_for(begin, end, 16, [&](int64_t b, int64_t e) {
    Out* dst = out + (b - begin) * w.in;
    if (isa == Isa::kNone)
      dequantize_rows_scalar(w, b, e, dst);
    else
      with_form(w, [&](auto bits, auto split) {
        if (isa == Isa::kAvx512)
          dequantize_rows_avx512<bits, split>(w, b, e, dst);
        else
          dequantize_rows_avx2<bits, split>(w, b, e, dst);
      });
  });
}

}  // namespace

bool gemv_grouped(const float* x, int64_t rows, const GroupedWeight& w, float* y, CpuIsa isa) {
  return run(x, rows, w, y, isa);
}
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, float* y, CpuIsa isa) {
  return run(x, rows, w, y, isa);
}
bool gemv_grouped(const uint16_t* x, int64_t rows, const GroupedWeight& w, uint16_t* y, CpuIsa isa) {
  return run(x, rows, w, y, isa);
}

void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, float* out, CpuIsa isa) {
  dequantize(w, begin, end, out, isa);
}
void dequantize_grouped(const GroupedWeight& w, int64_t begin, int64_t end, c10::BFloat16* out, CpuIsa isa) {
  dequantize(w, begin, end, out, isa);
}

}  // namespace breadth::model
