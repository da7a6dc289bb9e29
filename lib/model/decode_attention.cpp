#include "model/decode_attention.hpp"

#include <ATen/Parallel.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/simd_load.hpp"

namespace breadth::model {
namespace {

// One (row, key head) pair: its g query heads against the pair's C cached columns.
// q: g x D float32; s: g x C scratch; out: g x D float32.
template <typename T>
__attribute__((target("avx512f"))) void pair(const float* q, int64_t g, const T* k, const T* v, int64_t C,
                                             int64_t D, const bool* visible, float scale, float* s, float* out) {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < C; ++c) {
    if (visible && !visible[c]) {
      for (int64_t h = 0; h < g; ++h) s[h * C + c] = ninf;
      continue;
    }
    const T* kr = k + c * D;
    for (int64_t h = 0; h < g; ++h) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t d = 0; d < D; d += 16) acc = _mm512_fmadd_ps(load16(kr + d), _mm512_loadu_ps(q + h * D + d), acc);
      s[h * C + c] = _mm512_reduce_add_ps(acc) * scale;
    }
  }
  for (int64_t h = 0; h < g; ++h) {
    float* sh = s + h * C;
    float m = ninf;
    for (int64_t c = 0; c < C; ++c) m = std::max(m, sh[c]);
    float* o = out + h * D;
    std::memset(o, 0, sizeof(float) * static_cast<size_t>(D));
    if (m == ninf) continue;  // nothing visible: zeros (never the case for breadth's masks)
    float sum = 0;
    for (int64_t c = 0; c < C; ++c) {
      sh[c] = sh[c] == ninf ? 0.0f : std::exp(sh[c] - m);
      sum += sh[c];
    }
    for (int64_t c = 0; c < C; ++c) {
      if (sh[c] == 0.0f) continue;
      const __m512 p = _mm512_set1_ps(sh[c]);
      const T* vr = v + c * D;
      for (int64_t d = 0; d < D; d += 16)
        _mm512_storeu_ps(o + d, _mm512_fmadd_ps(p, load16(vr + d), _mm512_loadu_ps(o + d)));
    }
    const __m512 inv = _mm512_set1_ps(1.0f / sum);
    for (int64_t d = 0; d < D; d += 16) _mm512_storeu_ps(o + d, _mm512_mul_ps(_mm512_loadu_ps(o + d), inv));
  }
}

template <typename T>
void run(const torch::Tensor& qf, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& visible,
         float scale, torch::Tensor& out) {
  const int64_t B = k.size(0), nkv = k.size(1), C = k.size(2), D = k.size(3), g = qf.size(1) / nkv;
  const T* kp = reinterpret_cast<const T*>(k.data_ptr());
  const T* vp = reinterpret_cast<const T*>(v.data_ptr());
  const float* qp = qf.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const bool* mp = visible.defined() ? visible.data_ptr<bool>() : nullptr;
  at::parallel_for(0, B * nkv, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> s(static_cast<size_t>(g * C));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / nkv, h = i % nkv;
      pair(qp + (b * nkv + h) * g * D, g, kp + b * k.stride(0) + h * k.stride(1), vp + b * v.stride(0) + h * v.stride(1),
           C, D, mp ? mp + b * C : nullptr, scale, s.data(), op + (b * nkv + h) * g * D);
    }
  });
}

}  // namespace

std::optional<torch::Tensor> decode_attention(const torch::Tensor& q, const torch::Tensor& k,
                                              const torch::Tensor& v, const torch::Tensor& mask, double scale) {
  if (!cpu_has_avx512f() || !q.is_cpu() || q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || q.size(2) != 1) return std::nullopt;
  const auto dt = k.scalar_type();
  if ((dt != torch::kFloat32 && dt != torch::kBFloat16) || v.scalar_type() != dt || !k.is_cpu() || !v.is_cpu())
    return std::nullopt;
  const int64_t B = k.size(0), nkv = k.size(1), C = k.size(2), D = k.size(3), nq = q.size(1);
  if (D % 16 != 0 || nkv == 0 || nq % nkv != 0 || q.size(0) != B || q.size(3) != D || v.sizes() != k.sizes() ||
      k.stride(3) != 1 || k.stride(2) != D || v.stride(3) != 1 || v.stride(2) != D || C == 0)
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
  if (dt == torch::kFloat32) run<float>(qf, k, v, visible, static_cast<float>(scale), out);
  else run<uint16_t>(qf, k, v, visible, static_cast<float>(scale), out);
  return out;
}

}  // namespace breadth::model
