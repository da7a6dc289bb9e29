#include "model/gemv.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "model/simd_load.hpp"

// GCC 12's AVX-512 headers start some intrinsics (_mm512_reduce_add_ps, _mm512_cvtepi32_epi16) from
// a deliberately undefined vector, which its own -Wuninitialized then reports at every inlining.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace breadth::model {
namespace {

// Kernels over weight rows [begin, end), templated on the weight type: float, or bfloat16 bits
// (uint16_t) widened to float exactly on load (a bfloat16 is the top half of a float32). The
// activations are float32 and every product and sum is a float32 FMA, as libtorch's bfloat16 linear
// computes on the CPU. Compiled for their instruction sets by attribute; chosen at run time.
//
// One activation row: four accumulators per weight row hide the FMA latency (the loop streams
// the weights). Several rows: blocks of 4 weight rows x MB activation rows, one accumulator per
// pair, so that each loaded weight vector feeds MB FMAs.

inline float scalar(float v) { return v; }
inline float scalar(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename W>
__attribute__((target("avx512f"))) void one_row_avx512(const float* x, const W* w, int64_t in, int64_t out,
                                                       float* y, int64_t begin, int64_t end) {
  for (int64_t o = begin; o < end; ++o) {
    const W* wr = w + o * in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 64 <= in; k += 64) {
      a0 = _mm512_fmadd_ps(load16(wr + k), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(load16(wr + k + 16), _mm512_loadu_ps(x + k + 16), a1);
      a2 = _mm512_fmadd_ps(load16(wr + k + 32), _mm512_loadu_ps(x + k + 32), a2);
      a3 = _mm512_fmadd_ps(load16(wr + k + 48), _mm512_loadu_ps(x + k + 48), a3);
    }
    for (; k + 16 <= in; k += 16) a0 = _mm512_fmadd_ps(load16(wr + k), _mm512_loadu_ps(x + k), a0);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; k < in; ++k) s += scalar(wr[k]) * x[k];
    y[o] = s;
  }
  (void)out;
}

template <typename W, int MB>
__attribute__((target("avx512f"))) inline void block_avx512(const float* x, const W* w, int64_t in, int64_t out,
                                                            float* y, int64_t o, int64_t m0) {
  __m512 acc[4][MB];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= in; k += 16) {
    __m512 xv[MB];
    for (int j = 0; j < MB; ++j) xv[j] = _mm512_loadu_ps(x + (m0 + j) * in + k);
    for (int r = 0; r < 4; ++r) {
      // The next block's rows as this one's are read (see block_dpbf16).
      _mm_prefetch(reinterpret_cast<const char*>(w + (o + 4 + r) * in + k), _MM_HINT_T0);
      const __m512 wv = load16(w + (o + r) * in + k);
      for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_fmadd_ps(wv, xv[j], acc[r][j]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < MB; ++j) {
      float s = _mm512_reduce_add_ps(acc[r][j]);
      for (int64_t t = k; t < in; ++t) s += scalar(w[(o + r) * in + t]) * x[(m0 + j) * in + t];
      y[(m0 + j) * out + o + r] = s;
    }
}

template <typename W>
__attribute__((target("avx512f"))) inline void block_tail_avx512(const float* x, const W* wr, int64_t in, float* y) {
  __m512 a = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= in; k += 16) a = _mm512_fmadd_ps(load16(wr + k), _mm512_loadu_ps(x + k), a);
  float s = _mm512_reduce_add_ps(a);
  for (; k < in; ++k) s += scalar(wr[k]) * x[k];
  *y = s;
}

template <typename W>
__attribute__((target("avx512f"))) void rows_avx512(const float* x, int64_t rows, const W* w, int64_t in,
                                                    int64_t out, float* y, int64_t begin, int64_t end) {
  if (rows == 1) return one_row_avx512(x, w, in, out, y, begin, end);
  int64_t o = begin;
  for (; o + 4 <= end; o += 4) {
    int64_t m = 0;
    for (; m + 4 <= rows; m += 4) block_avx512<W, 4>(x, w, in, out, y, o, m);
    switch (rows - m) {
      case 3: block_avx512<W, 3>(x, w, in, out, y, o, m); break;
      case 2: block_avx512<W, 2>(x, w, in, out, y, o, m); break;
      case 1: block_avx512<W, 1>(x, w, in, out, y, o, m); break;
      default: break;
    }
  }
  for (; o < end; ++o)
    for (int64_t m = 0; m < rows; ++m) block_tail_avx512(x + m * in, w + o * in, in, y + m * out + o);
}

// Both operands bfloat16 (a bfloat16 model's activations are bfloat16 already, so nothing is
// rounded to get here): AVX512-BF16's dot product multiplies pairs exactly in float32 and adds them
// into float32 lanes, 32 products per instruction where the widening kernels do 16 and spend two
// more instructions per weight vector on the widening. Only the order of the float32 additions
// differs from gemv_bf16, which the dot-product bound already allows for. A last partial chunk of
// 32 is loaded masked (zeros add nothing).
__attribute__((target("avx512f,avx512bw,avx512bf16"))) inline __m512bh load32(const uint16_t* p) {
  return (__m512bh)_mm512_loadu_si512(p);
}
__attribute__((target("avx512f,avx512bw,avx512bf16"))) inline __m512bh load32(const uint16_t* p, __mmask32 m) {
  return (__m512bh)_mm512_maskz_loadu_epi16(m, p);
}

template <int R, int MB, typename Y>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) inline void block_dpbf16(
    const uint16_t* x, const uint16_t* w, int64_t in, int64_t out, Y* y, int64_t o, int64_t m0) {
  __m512 acc[R][MB];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_setzero_ps();
  auto step = [&](int64_t k, auto load) __attribute__((always_inline, target("avx512f,avx512bw,avx512bf16"))) {
    __m512bh xv[MB];
#pragma GCC unroll 8
    for (int j = 0; j < MB; ++j) xv[j] = load(x + (m0 + j) * in + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      // The next block's rows, one line each per step of 32: short rows (576 inputs) leave the
      // hardware prefetcher too little of each stream to find it.
      _mm_prefetch(reinterpret_cast<const char*>(w + (o + R + r) * in + k), _MM_HINT_T0);
      const __m512bh wv = load(w + (o + r) * in + k);
#pragma GCC unroll 8
      for (int j = 0; j < MB; ++j) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], wv, xv[j]);
    }
  };
  int64_t k = 0;
  for (; k + 32 <= in; k += 32) step(k, [](const uint16_t* p) __attribute__((always_inline, target("avx512f,avx512bw,avx512bf16"))) { return load32(p); });
  if (k < in) {
    const auto m = static_cast<__mmask32>((uint64_t{1} << (in - k)) - 1);
    step(k, [m](const uint16_t* p) __attribute__((always_inline, target("avx512f,avx512bw,avx512bf16"))) { return load32(p, m); });
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int j = 0; j < MB; ++j) put(_mm512_reduce_add_ps(acc[r][j]), y + (m0 + j) * out + o + r);
}

template <int R, typename Y>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) inline void dpbf16_rows(
    int64_t mb, const uint16_t* x, const uint16_t* w, int64_t in, int64_t out, Y* y, int64_t o, int64_t m) {
  switch (mb) {
    case 6: return block_dpbf16<R, 6, Y>(x, w, in, out, y, o, m);
    case 5: return block_dpbf16<R, 5, Y>(x, w, in, out, y, o, m);
    case 4: return block_dpbf16<R, 4, Y>(x, w, in, out, y, o, m);
    case 3: return block_dpbf16<R, 3, Y>(x, w, in, out, y, o, m);
    case 2: return block_dpbf16<R, 2, Y>(x, w, in, out, y, o, m);
    default: return block_dpbf16<R, 1, Y>(x, w, in, out, y, o, m);
  }
}

// One activation row: each weight row in turn, four accumulators over it, so that the rows are read
// as the single sequential stream they lie in. (Blocks of 4 rows read four streams a row apart with
// software prefetch, which several activation rows need to reuse each loaded weight; at one row the
// plain stream decoded SmolLM2 bfloat16 12-16% faster, four A/B rounds of 2026-12-07.)
template <typename Y>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void one_row_dpbf16(const uint16_t* x, const uint16_t* w,
                                                                           int64_t in, Y* y, int64_t begin,
                                                                           int64_t end) {
  for (int64_t o = begin; o < end; ++o) {
    const uint16_t* wr = w + o * in;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 128 <= in; k += 128) {
      a0 = _mm512_dpbf16_ps(a0, load32(wr + k), load32(x + k));
      a1 = _mm512_dpbf16_ps(a1, load32(wr + k + 32), load32(x + k + 32));
      a2 = _mm512_dpbf16_ps(a2, load32(wr + k + 64), load32(x + k + 64));
      a3 = _mm512_dpbf16_ps(a3, load32(wr + k + 96), load32(x + k + 96));
    }
    for (; k + 32 <= in; k += 32) a0 = _mm512_dpbf16_ps(a0, load32(wr + k), load32(x + k));
    if (k < in) {
      const auto m = static_cast<__mmask32>((uint64_t{1} << (in - k)) - 1);
      a1 = _mm512_dpbf16_ps(a1, load32(wr + k, m), load32(x + k, m));
    }
    put(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))), y + o);
  }
}

template <typename Y>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void rows_dpbf16(const uint16_t* x, int64_t rows,
                                                                        const uint16_t* w, int64_t in,
                                                                        int64_t out, Y* y, int64_t begin,
                                                                        int64_t end) {
  // Blocks of up to 4 weight rows x up to 6 activation rows (24 accumulators, 6 activation vectors
  // and a weight vector: 31 of the 32 registers), the activation rows split into near-equal blocks.
  if (rows == 1) return one_row_dpbf16(x, w, in, y, begin, end);
  int64_t o = begin;
  for (; o + 4 <= end; o += 4)
    for_each_row_block(rows, 6, [&](int64_t mb, int64_t m) { dpbf16_rows<4, Y>(mb, x, w, in, out, y, o, m); });
  for (; o < end; ++o)
    for_each_row_block(rows, 6, [&](int64_t mb, int64_t m) { dpbf16_rows<1, Y>(mb, x, w, in, out, y, o, m); });
}

template <typename W>
__attribute__((target("avx2,fma"))) void rows_avx2(const float* x, int64_t rows, const W* w, int64_t in,
                                                   int64_t out, float* y, int64_t begin, int64_t end) {
  for (int64_t o = begin; o < end; ++o) {
    const W* wr = w + o * in;
    for (int64_t m = 0; m < rows; ++m) {
      const float* xm = x + m * in;
      __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
             a3 = _mm256_setzero_ps();
      int64_t k = 0;
      for (; k + 32 <= in; k += 32) {
        a0 = _mm256_fmadd_ps(load8(wr + k), _mm256_loadu_ps(xm + k), a0);
        a1 = _mm256_fmadd_ps(load8(wr + k + 8), _mm256_loadu_ps(xm + k + 8), a1);
        a2 = _mm256_fmadd_ps(load8(wr + k + 16), _mm256_loadu_ps(xm + k + 16), a2);
        a3 = _mm256_fmadd_ps(load8(wr + k + 24), _mm256_loadu_ps(xm + k + 24), a3);
      }
      for (; k + 8 <= in; k += 8) a0 = _mm256_fmadd_ps(load8(wr + k), _mm256_loadu_ps(xm + k), a0);
      float s = sum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
      for (; k < in; ++k) s += scalar(wr[k]) * xm[k];
      y[m * out + o] = s;
    }
  }
}

template <typename W>
using RowsFn = void (*)(const float*, int64_t, const W*, int64_t, int64_t, float*, int64_t, int64_t);

template <typename W>
RowsFn<W> pick(CpuIsa isa) {
  if (isa == CpuIsa::kBest && cpu_has_avx512f()) return rows_avx512<W>;
  if (cpu_has_avx2()) return rows_avx2<W>;
  return nullptr;
}

template <typename W>
bool run(const float* x, int64_t rows, const W* w, int64_t in, int64_t out, float* y, CpuIsa isa) {
  static const RowsFn<W> kBest = pick<W>(CpuIsa::kBest), kAvx2 = pick<W>(CpuIsa::kAvx2);
  const RowsFn<W> kernel = isa == CpuIsa::kBest ? kBest : kAvx2;
  if (kernel == nullptr || rows < 1 || rows > kGemvMaxRows) return false;
  // Grains of 32 weight rows: enough work per task to amortize the split, and every thread gets some.
  at::parallel_for(0, out, 32, [&](int64_t b, int64_t e) { kernel(x, rows, w, in, out, y, b, e); });
  return true;
}

template <typename Y>
bool run_dpbf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, Y* y) {
  if (!cpu_has_avx512bf16() || rows < 1 || rows > kGemvMaxRows) return false;
  at::parallel_for(0, out, 32, [&](int64_t b, int64_t e) { rows_dpbf16(x, rows, w, in, out, y, b, e); });
  return true;
}

}  // namespace

bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y) {
  return run_dpbf16(x, rows, w, in, out, y);
}
bool gemv_bf16_bf16(const uint16_t* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, uint16_t* y) {
  return run_dpbf16(x, rows, w, in, out, y);
}

bool gemv_f32(const float* x, int64_t rows, const float* w, int64_t in, int64_t out, float* y, CpuIsa isa) {
  return run(x, rows, w, in, out, y, isa);
}

bool gemv_bf16(const float* x, int64_t rows, const uint16_t* w, int64_t in, int64_t out, float* y, CpuIsa isa) {
  return run(x, rows, w, in, out, y, isa);
}

}  // namespace breadth::model
