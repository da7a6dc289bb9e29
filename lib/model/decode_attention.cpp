#include "model/decode_attention.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/simd_load.hpp"

// GCC 12's AVX-512 headers start some intrinsics (_mm512_reduce_add_ps, _mm512_shuffle_f32x4) from
// a deliberately undefined vector, which its own -Wuninitialized then reports at every inlining.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace breadth::model {
namespace {

// The sums of 16 vectors' lanes, r[i] = sum of v[i]'s 16 lanes, in one vector: pairs of vectors are
// interleaved and added within 128-bit lanes, then fours of them, then the 128-bit blocks across
// vectors (about 45 instructions for 16 sums, where 16 _mm512_reduce_add_ps take about 130).
__attribute__((target("avx512f"))) inline __m512 sums16(const __m512 (&v)[16]) {
  __m512 w[8], x[4];
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: a0+a2, b0+b2, a1+a3, b1+b3
    w[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // per 128-bit lane: the lane's sums of v[4i .. 4i+3]
    x[i] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0xEE));
  // Block i of the result: x[i]'s four 128-bit lanes added.
  const __m512 z01 = _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x44), _mm512_shuffle_f32x4(x[0], x[1], 0xEE));
  const __m512 z23 = _mm512_add_ps(_mm512_shuffle_f32x4(x[2], x[3], 0x44), _mm512_shuffle_f32x4(x[2], x[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(z01, z23, 0x88), _mm512_shuffle_f32x4(z01, z23, 0xDD));
}

// exp16's and exp8's constants: log2(e), ln 2 in two parts (the first exact in few bits, so that
// n ln 2 is subtracted without rounding), and Cephes' expf polynomial, highest power first.
constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
// Below this e^x is under float32's normal range: both return 0 there.
constexpr float kExpUnder = -87.3f;
constexpr float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

// e^x in 16 lanes, for softmax's x <= 0: 2^n e^r with n = round(x log2 e) and r = x - n ln 2 (ln 2
// in two parts), e^r by Cephes' expf polynomial (relative error about 1e-7, a few float32 ulps;
// std::exp one lane at a time was 40% of this kernel at 1024 columns). Below -87.3 (under float32's
// normal range, a hidden column's -inf included) 0; NaN stays NaN.
__attribute__((target("avx512f"))) inline __m512 exp16(__m512 x) {
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpPoly[0]);
#pragma GCC unroll 5
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpPoly[i]));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __mmask16 under = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpUnder), _CMP_LT_OQ);
  return _mm512_mask_mov_ps(_mm512_scalef_ps(p, n), under, _mm512_setzero_ps());
}

// The visible columns, listed once for the g heads in cols (all C of them without a mask: no
// list), the hidden ones' scores in s (g x C) set to -inf; returns how many are shown.
inline int64_t list_visible(const bool* visible, int64_t C, int64_t g, float* s, int64_t* cols) {
  if (!visible) return C;
  int64_t shown = 0;
  for (int64_t c = 0; c < C; ++c) {
    if (visible[c]) {
      cols[shown++] = c;
    } else {
      for (int64_t h = 0; h < g; ++h) s[h * C + c] = -std::numeric_limits<float>::infinity();
    }
  }
  return shown;
}

// The largest of a head's C scores (NaN skipped). When every column is hidden (-inf; never the
// case for breadth's masks) the head's weights become zeros, `inv` 0, and -inf is returned.
inline float scores_max(float* sh, int64_t C, float& inv) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < C; ++c) m = std::max(m, sh[c]);
  if (m == -std::numeric_limits<float>::infinity()) {
    std::memset(sh, 0, sizeof(float) * static_cast<size_t>(C));
    inv = 0;
  }
  return m;
}

// Query heads whose weighted values are summed in one pass over the values (register accumulators).
constexpr int kMaxHeads = 8;

// out[h] = inv[h] * sum over the shown columns c of p[h][c] v[c], for G heads at once: each value
// chunk is loaded (and widened) once for the G heads, and alternate columns go to two sets of
// accumulators (2G of the 32 registers), so no sum waits on the one before it. A hidden column's
// value is never read (it may be a slot not yet written). p: G x C; cols: the shown columns, or
// null for all C.
template <int G, typename T>
__attribute__((target("avx512f"))) void weighted_values(const float* p, int64_t C, const T* v, int64_t D,
                                                        const int64_t* cols, int64_t shown, const float* inv,
                                                        float* out) {
  auto column = [&](int64_t i) { return cols ? cols[i] : i; };
  for (int64_t d = 0; d < D; d += 16) {
    __m512 a[G], b[G];
#pragma GCC unroll 8
    for (int h = 0; h < G; ++h) a[h] = b[h] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= shown; i += 2) {
      const int64_t c = column(i), c1 = column(i + 1);
      const __m512 va = load16(v + c * D + d), vb = load16(v + c1 * D + d);
#pragma GCC unroll 8
      for (int h = 0; h < G; ++h) {
        a[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * C + c]), va, a[h]);
        b[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * C + c1]), vb, b[h]);
      }
    }
    if (i < shown) {
      const int64_t c = column(i);
      const __m512 va = load16(v + c * D + d);
#pragma GCC unroll 8
      for (int h = 0; h < G; ++h) a[h] = _mm512_fmadd_ps(_mm512_set1_ps(p[h * C + c]), va, a[h]);
    }
#pragma GCC unroll 8
    for (int h = 0; h < G; ++h)
      _mm512_storeu_ps(out + h * D + d, _mm512_mul_ps(_mm512_add_ps(a[h], b[h]), _mm512_set1_ps(inv[h])));
  }
}

// One (row, key head) pair: its g query heads against the pair's C cached columns.
// q: g x D float32; s: g x C scratch; cols: C scratch; out: g x D float32.
template <typename T>
__attribute__((target("avx512f"))) void pair(const float* q, int64_t g, const T* k, const T* v, int64_t C,
                                             int64_t D, const bool* visible, float scale, float* s, int64_t* cols,
                                             float* out) {
  const float ninf = -std::numeric_limits<float>::infinity();
  // Scores, 16 columns at a time: each column's products in one vector (the block's keys stay in L1
  // across the g heads), the 16 vectors' sums at once.
  for (int64_t c0 = 0; c0 < C; c0 += 16) {
    const int64_t n = std::min<int64_t>(16, C - c0);
    for (int64_t h = 0; h < g; ++h) {
      __m512 acc[16];
      for (int j = 0; j < 16; ++j) acc[j] = _mm512_setzero_ps();
      for (int64_t j = 0; j < n; ++j) {
        const T* kr = k + (c0 + j) * D;
        for (int64_t d = 0; d < D; d += 16)
          acc[j] = _mm512_fmadd_ps(load16(kr + d), _mm512_loadu_ps(q + h * D + d), acc[j]);
      }
      const __m512 sc = _mm512_mul_ps(sums16(acc), _mm512_set1_ps(scale));
      _mm512_mask_storeu_ps(s + h * C + c0, static_cast<__mmask16>((1u << n) - 1), sc);
    }
  }
  const int64_t shown = list_visible(visible, C, g, s, cols);
  const int64_t* listed = visible ? cols : nullptr;
  float inv[kMaxHeads];
  for (int64_t h0 = 0; h0 < g; h0 += kMaxHeads) {
    const int64_t heads = std::min<int64_t>(kMaxHeads, g - h0);
    for (int64_t h = 0; h < heads; ++h) {
      float* sh = s + (h0 + h) * C;
      const float m = scores_max(sh, C, inv[h]);
      if (m == ninf) continue;
      const __m512 vm = _mm512_set1_ps(m);
      __m512 vsum = _mm512_setzero_ps();
      for (int64_t c = 0; c < C; c += 16) {
        const auto lanes = static_cast<__mmask16>(C - c >= 16 ? 0xffff : (1u << (C - c)) - 1);
        const __m512 e =
            _mm512_maskz_mov_ps(lanes, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, sh + c), vm)));
        _mm512_mask_storeu_ps(sh + c, lanes, e);
        vsum = _mm512_add_ps(vsum, e);
      }
      inv[h] = 1.0f / _mm512_reduce_add_ps(vsum);
    }
    const float* p = s + h0 * C;
    float* o = out + h0 * D;
    switch (heads) {
      case 8: weighted_values<8>(p, C, v, D, listed, shown, inv, o); break;
      case 7: weighted_values<7>(p, C, v, D, listed, shown, inv, o); break;
      case 6: weighted_values<6>(p, C, v, D, listed, shown, inv, o); break;
      case 5: weighted_values<5>(p, C, v, D, listed, shown, inv, o); break;
      case 4: weighted_values<4>(p, C, v, D, listed, shown, inv, o); break;
      case 3: weighted_values<3>(p, C, v, D, listed, shown, inv, o); break;
      case 2: weighted_values<2>(p, C, v, D, listed, shown, inv, o); break;
      default: weighted_values<1>(p, C, v, D, listed, shown, inv, o); break;
    }
  }
}

// The same kernel eight lanes wide, for CPUs with AVX2 but no AVX-512: without it such a CPU ran
// libtorch's SDPA per layer (a small MKL GEMM per row and head). Same steps as above; the
// differences are AVX2's: 16 registers (so up to 4 query heads a value pass), no masked
// instructions (lane masks as vectors), 2^n built in the exponent bits instead of scalef.
#define BREADTH_AVX2 __attribute__((target("avx2,fma")))

// r[i] = sum of v[i]'s 8 lanes: pairwise horizontal adds, then the two 128-bit halves.
BREADTH_AVX2 inline __m256 sums8(const __m256 (&v)[8]) {
  const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
  // a: lanes 0-3 the sums of v0..v3's low halves, lanes 4-7 of their high halves; b: v4..v7's.
  const __m256 a = _mm256_hadd_ps(h01, h23), b = _mm256_hadd_ps(h45, h67);
  return _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
}

// exp16's polynomial in 8 lanes; 2^n as the float with exponent n + 127 (n >= -126 wherever the
// lane is kept: x >= -87.3).
BREADTH_AVX2 inline __m256 exp8(__m256 x) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpPoly[0]);
#pragma GCC unroll 5
  for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpPoly[i]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  const __m256 under = _mm256_cmp_ps(x, _mm256_set1_ps(kExpUnder), _CMP_LT_OQ);
  return _mm256_andnot_ps(under, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

// Lanes i < n all ones (AVX2's masked loads and stores take the mask as a vector).
BREADTH_AVX2 inline __m256i first_lanes(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(n, 8))),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

constexpr int kMaxHeadsAvx2 = 4;

template <int G, typename T>
BREADTH_AVX2 void weighted_values_avx2(const float* p, int64_t C, const T* v, int64_t D, const int64_t* cols,
                                       int64_t shown, const float* inv, float* out) {
  auto column = [&](int64_t i) { return cols ? cols[i] : i; };
  for (int64_t d = 0; d < D; d += 8) {
    __m256 a[G], b[G];
#pragma GCC unroll 4
    for (int h = 0; h < G; ++h) a[h] = b[h] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= shown; i += 2) {
      const int64_t c = column(i), c1 = column(i + 1);
      const __m256 va = load8(v + c * D + d), vb = load8(v + c1 * D + d);
#pragma GCC unroll 4
      for (int h = 0; h < G; ++h) {
        a[h] = _mm256_fmadd_ps(_mm256_set1_ps(p[h * C + c]), va, a[h]);
        b[h] = _mm256_fmadd_ps(_mm256_set1_ps(p[h * C + c1]), vb, b[h]);
      }
    }
    if (i < shown) {
      const int64_t c = column(i);
      const __m256 va = load8(v + c * D + d);
#pragma GCC unroll 4
      for (int h = 0; h < G; ++h) a[h] = _mm256_fmadd_ps(_mm256_set1_ps(p[h * C + c]), va, a[h]);
    }
#pragma GCC unroll 4
    for (int h = 0; h < G; ++h)
      _mm256_storeu_ps(out + h * D + d, _mm256_mul_ps(_mm256_add_ps(a[h], b[h]), _mm256_set1_ps(inv[h])));
  }
}

template <typename T>
BREADTH_AVX2 void pair_avx2(const float* q, int64_t g, const T* k, const T* v, int64_t C, int64_t D,
                            const bool* visible, float scale, float* s, int64_t* cols, float* out) {
  for (int64_t c0 = 0; c0 < C; c0 += 8) {
    const int64_t n = std::min<int64_t>(8, C - c0);
    for (int64_t h = 0; h < g; ++h) {
      __m256 acc[8];
      for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
      for (int64_t j = 0; j < n; ++j) {
        const T* kr = k + (c0 + j) * D;
        for (int64_t d = 0; d < D; d += 8)
          acc[j] = _mm256_fmadd_ps(load8(kr + d), _mm256_loadu_ps(q + h * D + d), acc[j]);
      }
      _mm256_maskstore_ps(s + h * C + c0, first_lanes(n), _mm256_mul_ps(sums8(acc), _mm256_set1_ps(scale)));
    }
  }
  const int64_t shown = list_visible(visible, C, g, s, cols);
  const int64_t* listed = visible ? cols : nullptr;
  float inv[kMaxHeadsAvx2];
  for (int64_t h0 = 0; h0 < g; h0 += kMaxHeadsAvx2) {
    const int64_t heads = std::min<int64_t>(kMaxHeadsAvx2, g - h0);
    for (int64_t h = 0; h < heads; ++h) {
      float* sh = s + (h0 + h) * C;
      const float m = scores_max(sh, C, inv[h]);
      if (m == -std::numeric_limits<float>::infinity()) continue;
      const __m256 vm = _mm256_set1_ps(m);
      __m256 vsum = _mm256_setzero_ps();
      for (int64_t c = 0; c < C; c += 8) {
        const __m256i lanes = first_lanes(C - c);
        const __m256 e = _mm256_and_ps(_mm256_castsi256_ps(lanes),
                                       exp8(_mm256_sub_ps(_mm256_maskload_ps(sh + c, lanes), vm)));
        _mm256_maskstore_ps(sh + c, lanes, e);
        vsum = _mm256_add_ps(vsum, e);
      }
      inv[h] = 1.0f / sum8(vsum);
    }
    const float* p = s + h0 * C;
    float* o = out + h0 * D;
    switch (heads) {
      case 4: weighted_values_avx2<4>(p, C, v, D, listed, shown, inv, o); break;
      case 3: weighted_values_avx2<3>(p, C, v, D, listed, shown, inv, o); break;
      case 2: weighted_values_avx2<2>(p, C, v, D, listed, shown, inv, o); break;
      default: weighted_values_avx2<1>(p, C, v, D, listed, shown, inv, o); break;
    }
  }
}
#undef BREADTH_AVX2

template <typename T>
void run(const torch::Tensor& qf, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& visible,
         float scale, bool avx512, torch::Tensor& out) {
  const int64_t B = k.size(0), nkv = k.size(1), C = k.size(2), D = k.size(3), g = qf.size(1) / nkv;
  const T* kp = reinterpret_cast<const T*>(k.data_ptr());
  const T* vp = reinterpret_cast<const T*>(v.data_ptr());
  const float* qp = qf.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const bool* mp = visible.defined() ? visible.data_ptr<bool>() : nullptr;
  at::parallel_for(0, B * nkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>(g * C));
    std::vector<int64_t> cols(static_cast<size_t>(C));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / nkv, h = i % nkv;
      const auto kernel = avx512 ? pair<T> : pair_avx2<T>;
      kernel(qp + (b * nkv + h) * g * D, g, kp + b * k.stride(0) + h * k.stride(1),
             vp + b * v.stride(0) + h * v.stride(1), C, D, mp ? mp + b * C : nullptr, scale, s.data(), cols.data(),
             op + (b * nkv + h) * g * D);
    }
  });
}

}  // namespace

std::optional<torch::Tensor> decode_attention(const torch::Tensor& q, const torch::Tensor& k,
                                              const torch::Tensor& v, const torch::Tensor& mask, double scale,
                                              CpuIsa isa) {
  const bool avx512 = isa == CpuIsa::kBest && cpu_has_avx512f();
  if ((!avx512 && !cpu_has_avx2()) || !q.is_cpu() || q.dim() != 4 || k.dim() != 4 || v.dim() != 4 ||
      q.size(2) != 1)
    return std::nullopt;
  const auto dt = k.scalar_type();
  if ((dt != torch::kFloat32 && dt != torch::kBFloat16) || v.scalar_type() != dt || !k.is_cpu() || !v.is_cpu())
    return std::nullopt;
  const int64_t B = k.size(0), nkv = k.size(1), C = k.size(2), D = k.size(3), nq = q.size(1);
  if (D % (avx512 ? 16 : 8) != 0 || nkv == 0 || nq % nkv != 0 || q.size(0) != B || q.size(3) != D ||
      v.sizes() != k.sizes() || k.stride(3) != 1 || k.stride(2) != D || v.stride(3) != 1 || v.stride(2) != D ||
      C == 0)
    return std::nullopt;
  torch::Tensor visible;
  if (mask.defined()) {
    if (mask.scalar_type() != torch::kBool || mask.dim() != 4 || mask.size(0) != B || mask.size(1) != 1 ||
        mask.size(2) != 1 || mask.size(3) != C)
      return std::nullopt;
    visible = mask.reshape({B, C}).contiguous();
  }
  auto qf = q.to(torch::kFloat32).contiguous();
  auto out = torch::empty({B, nq, 1, D}, q.options().dtype(torch::kFloat32));
  if (dt == torch::kFloat32) run<float>(qf, k, v, visible, static_cast<float>(scale), avx512, out);
  else run<uint16_t>(qf, k, v, visible, static_cast<float>(scale), avx512, out);
  return out;
}

}  // namespace breadth::model
