#include "model/ops.hpp"

#include <torch/torch.h>

#include <cmath>

#include "core/check.hpp"

namespace breadth::model {

torch::Tensor rope_inv_freq(const RopeSpec& spec, int64_t head_dim, torch::Device device,
                            int64_t seq_len) {
  // Same operations in the same order as transformers, so float32 results agree to the last bit.
  const int64_t dim = spec.rotary_dim > 0 ? spec.rotary_dim : head_dim;
  auto exponent = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
  torch::Tensor inv_freq;
  if (spec.type == "dynamic") {
    const double factor = spec.factor;
    const double max_pos = static_cast<double>(spec.max_position);
    const double power = static_cast<double>(dim) / static_cast<double>(dim - 2);
    if (seq_len > spec.max_position) {
      // Growth (transformers' dynamic_frequency_update): seq_len is a tensor there, so the base
      // is computed in float32.
      auto sl = torch::scalar_tensor(seq_len, torch::kInt64);
      auto base = ((sl * factor) / max_pos - (factor - 1)).pow(power) * spec.theta;
      inv_freq = torch::pow(base, exponent).reciprocal();
    } else {
      // At initialisation seq_len = max_position_embeddings, in Python floats.
      const double base = spec.theta * std::pow(factor * max_pos / max_pos - (factor - 1), power);
      inv_freq = torch::pow(torch::Scalar(base), exponent).reciprocal();
    }
  } else if (spec.type == "longrope") {
    const auto& f = seq_len > spec.original_max_position ? spec.long_factor : spec.short_factor;
    auto ext = torch::tensor(std::vector<float>(f.begin(), f.end()), torch::kFloat32);
    inv_freq = (ext * torch::pow(torch::Scalar(spec.theta), exponent)).reciprocal();
  } else if (spec.type == "yarn") {
    const double base = spec.theta, factor = spec.factor;
    const double d = static_cast<double>(dim);
    auto pos_freqs = torch::pow(torch::Scalar(base), exponent);
    auto extrapolation = pos_freqs.reciprocal();
    auto interpolation = (pos_freqs * factor).reciprocal();
    auto correction_dim = [&](double rotations) {
      return (d * std::log(static_cast<double>(spec.original_max_position) / (rotations * 2 * M_PI))) /
             (2 * std::log(base));
    };
    double low = correction_dim(spec.beta_fast), high = correction_dim(spec.beta_slow);
    if (spec.truncate) {
      low = std::floor(low);
      high = std::ceil(high);
    }
    low = std::max(low, 0.0);
    high = std::min(high, d - 1);
    if (low == high) high += 0.001;  // transformers' guard against a zero-width ramp
    auto ramp = ((torch::arange(dim / 2, torch::kFloat32) - low) / (high - low)).clamp(0, 1);
    auto extrapolation_factor = 1 - ramp;
    inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
  } else {
    inv_freq = torch::pow(torch::Scalar(spec.theta), exponent).reciprocal();
  }
  if (spec.type == "linear") {
    inv_freq = inv_freq / spec.factor;
  } else if (spec.type == "llama3") {
    const double old_len = static_cast<double>(spec.original_max_position);
    const double low_wavelen = old_len / spec.low_freq_factor;
    const double high_wavelen = old_len / spec.high_freq_factor;
    auto wavelen = inv_freq.reciprocal() * (2 * M_PI);
    auto scaled = torch::where(wavelen > low_wavelen, inv_freq / spec.factor, inv_freq);
    auto smooth = (wavelen.reciprocal() * old_len - spec.low_freq_factor) /
                  (spec.high_freq_factor - spec.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / spec.factor + smooth * scaled;
    auto medium = (wavelen < high_wavelen).logical_not() & (wavelen > low_wavelen).logical_not();
    inv_freq = torch::where(medium, smoothed, scaled);
  }
  if (!spec.freq_factors.empty()) {
    auto f = torch::tensor(spec.freq_factors, torch::kFloat32);
    BREADTH_CHECK_FORMAT(f.numel() == inv_freq.numel(),
                         "rope frequency factors: {} values for {} frequencies", f.numel(),
                         inv_freq.numel());
    inv_freq = inv_freq / f;
  }
  return inv_freq.to(device);
}

std::pair<torch::Tensor, torch::Tensor> rope_cos_sin(const torch::Tensor& positions,
                                                     const torch::Tensor& inv_freq,
                                                     torch::ScalarType dtype,
                                                     double attention_factor) {
  auto freqs = positions.unsqueeze(-1).to(torch::kFloat32) * inv_freq;  // [B, T, D/2]
  auto emb = torch::cat({freqs, freqs}, -1).unsqueeze(1);             // [B, 1, T, D]
  auto cos = emb.cos(), sin = emb.sin();
  if (attention_factor != 1.0) {
    cos = cos * attention_factor;
    sin = sin * attention_factor;
  }
  return {cos.to(dtype), sin.to(dtype)};
}

namespace {

// The element types the CPU loops below take: float32, or bfloat16 widened exactly and rounded by
// c10's conversion (to nearest, ties to even, as libtorch's ops round), so that each step rounds
// where libtorch's op would.
inline float wide(float v) { return v; }
inline float wide(c10::BFloat16 v) { return static_cast<float>(v); }
template <typename T>
inline T narrow_to(float v) {
  return static_cast<T>(v);
}

// A decode step's tensors are a few rows of a few hundred values: there libtorch's composites
// spend more time dispatching and allocating than computing (on this project's 2-core benchmark
// machine, SmolLM2's row: rms_norm's eight ops in bfloat16 ~7.6 us, at::rms_norm ~6.8 us, one rope
// ~5.6 us; 121 of them a step), so these loops do each in one pass, in the same order of roundings
// (rms_norm's sum of squares aside: sixteen float32 running sums). A prompt's larger tensors stay
// with libtorch's vectorized, threaded kernels.
constexpr int64_t kLoopMaxElems = int64_t{1} << 15;

bool cpu_loop_fits(const torch::Tensor& t) {
  return t.is_cpu() && (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kBFloat16) &&
         t.numel() <= kLoopMaxElems;
}

template <typename T, typename W>
void rms_norm_rows(const T* x, const W* w, T* y, int64_t rows, int64_t n, float eps, bool weight_in_f32) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    T* yr = y + r * n;
    // Sixteen running sums (SIMD lanes); float32 like libtorch's mean of the squares.
    float acc[16] = {};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (int j = 0; j < 16; ++j) acc[j] += wide(xr[i + j]) * wide(xr[i + j]);
    for (; i < n; ++i) acc[i % 16] += wide(xr[i]) * wide(xr[i]);
    float sum = 0;
    for (float a : acc) sum += a;
    const float inv = 1.0f / std::sqrt(sum / static_cast<float>(n) + eps);
    for (int64_t k = 0; k < n; ++k) {
      const float normed = wide(xr[k]) * inv;
      // Llama's order rounds the normalized value to the model dtype before the weight; OLMo-2
      // and Gemma multiply in float32 and round once.
      yr[k] = weight_in_f32 ? narrow_to<T>(normed * wide(w[k]))
                            : narrow_to<T>(wide(w[k]) * wide(narrow_to<T>(normed)));
    }
  }
}

// x [B, H, T, D] (last dimension contiguous, any other strides) -> out contiguous; cos/sin
// [B, 1, T, rot] contiguous, rot <= D and even.
template <typename T>
void rope_rows(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, torch::Tensor& out) {
  const int64_t B = x.size(0), H = x.size(1), T_ = x.size(2), D = x.size(3), rot = cos.size(3), half = rot / 2;
  const T* xp = reinterpret_cast<const T*>(x.data_ptr());
  const T* cp = reinterpret_cast<const T*>(cos.data_ptr());
  const T* sp = reinterpret_cast<const T*>(sin.data_ptr());
  T* op = reinterpret_cast<T*>(out.data_ptr());
  const int64_t sb = x.stride(0), sh = x.stride(1), st = x.stride(2);
  for (int64_t i = 0; i < B * H * T_; ++i) {
    const int64_t b = i / (H * T_), h = (i / T_) % H, t = i % T_;
    const T* xr = xp + b * sb + h * sh + t * st;
    const T* c = cp + (b * T_ + t) * rot;
    const T* s = sp + (b * T_ + t) * rot;
    T* o = op + i * D;
    // x * cos + rotate_half(x) * sin, rotate_half(x) = (-x2, x1); each product and the sum
    // rounded to T as libtorch's three ops round them. Negation is exact.
    for (int64_t d = 0; d < half; ++d) {
      const float x1 = wide(xr[d]), x2 = wide(xr[d + half]);
      o[d] = narrow_to<T>(wide(narrow_to<T>(x1 * wide(c[d]))) + wide(narrow_to<T>(-x2 * wide(s[d]))));
      o[d + half] = narrow_to<T>(wide(narrow_to<T>(x2 * wide(c[d + half]))) +
                                 wide(narrow_to<T>(x1 * wide(s[d + half]))));
    }
    for (int64_t d = rot; d < D; ++d) o[d] = xr[d];
  }
}

}  // namespace

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t rot = cos.size(-1);
  if (cpu_loop_fits(x) && x.dim() == 4 && cos.scalar_type() == x.scalar_type() &&
      sin.scalar_type() == x.scalar_type() && x.stride(3) == 1 && cos.dim() == 4 && cos.sizes() == sin.sizes() &&
      cos.size(0) == x.size(0) && cos.size(1) == 1 && cos.size(2) == x.size(2) && rot % 2 == 0 &&
      rot <= x.size(3) && cos.is_cpu() && sin.is_cpu()) {
    auto c = cos.contiguous(), s = sin.contiguous();
    auto out = torch::empty(x.sizes(), x.options());
    if (x.scalar_type() == torch::kFloat32) rope_rows<float>(x, c, s, out);
    else rope_rows<c10::BFloat16>(x, c, s, out);
    return out;
  }
  if (rot < x.size(-1)) {
    auto head = x.narrow(-1, 0, rot);
    return torch::cat({apply_rope(head, cos, sin), x.narrow(-1, rot, x.size(-1) - rot)}, -1);
  }
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  auto rotated = torch::cat({-x2, x1}, -1);
  return x * cos + rotated * sin;
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps,
                       bool weight_in_f32) {
  const auto dtype = x.scalar_type();
  const int64_t n = x.size(-1);
  // (A float32 weight on a bfloat16 x without weight_in_f32 promotes the composite's result to
  // float32: left to it.)
  if (cpu_loop_fits(x) && weight.is_cpu() && weight.dim() == 1 && weight.size(0) == n &&
      (weight.scalar_type() == dtype || (weight.scalar_type() == torch::kFloat32 && weight_in_f32))) {
    auto xc = x.contiguous();
    auto w = weight.contiguous();
    auto out = torch::empty(x.sizes(), x.options());
    const int64_t rows = n == 0 ? 0 : xc.numel() / n;
    const float e = static_cast<float>(eps);
    // In float32 the weight's place (before or after the cast) makes no difference.
    if (dtype == torch::kFloat32)
      rms_norm_rows(xc.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<float>(), rows, n, e, true);
    else if (weight.scalar_type() == torch::kFloat32)
      rms_norm_rows(xc.data_ptr<c10::BFloat16>(), w.data_ptr<float>(), out.data_ptr<c10::BFloat16>(), rows, n, e,
                    weight_in_f32);
    else
      rms_norm_rows(xc.data_ptr<c10::BFloat16>(), w.data_ptr<c10::BFloat16>(), out.data_ptr<c10::BFloat16>(), rows,
                    n, e, weight_in_f32);
    return out;
  }
  if (dtype == torch::kFloat32 && weight.scalar_type() == torch::kFloat32) {
    // One fused kernel; in float32 the weight's place (before/after the cast) makes no difference.
    return at::rms_norm(x, {x.size(-1)}, weight, eps);
  }
  auto xf = x.to(torch::kFloat32);
  auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
  if (weight_in_f32) return (normed * weight.to(torch::kFloat32)).to(dtype);
  return weight * normed.to(dtype);
}

torch::Tensor token_positions(const torch::Tensor& lengths, const torch::Tensor& valid) {
  auto counts = valid.to(torch::kInt64).cumsum(1);
  return (lengths.unsqueeze(1) + counts - 1).clamp_min(0);
}

namespace {

/// The mask of queries at columns `qcols` [T, 1] over every key column.
torch::Tensor mask_at_columns(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                              const torch::Tensor& query_pos, const torch::Tensor& qcols, int64_t window) {
  auto cols = torch::arange(key_valid.size(1), qcols.options()).unsqueeze(0);  // [1, K]
  auto mask = key_valid.unsqueeze(1) & (cols <= qcols).unsqueeze(0);           // [B, T, K]
  if (window > 0) mask &= (query_pos.unsqueeze(2) - key_pos.unsqueeze(1)) < window;
  mask |= (cols == qcols).unsqueeze(0);
  return mask.unsqueeze(1);
}

}  // namespace

torch::Tensor attention_mask(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                             const torch::Tensor& query_pos, int64_t past_columns, int64_t window) {
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(key_valid.device());
  auto qcols = torch::arange(past_columns, past_columns + query_pos.size(1), opts).unsqueeze(1);
  return mask_at_columns(key_valid, key_pos, query_pos, qcols, window);
}

torch::Tensor attention_mask_at(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                                const torch::Tensor& query_pos, const torch::Tensor& first_column,
                                int64_t window) {
  auto qcols = (first_column + torch::arange(query_pos.size(1), first_column.options())).unsqueeze(1);
  return mask_at_columns(key_valid, key_pos, query_pos, qcols, window);
}

torch::Tensor last_valid_index(const torch::Tensor& valid) {
  const int64_t t = valid.size(1);
  return (t - 1) - valid.flip({1}).to(torch::kInt32).argmax(1).to(torch::kInt64);
}

torch::Tensor softcap(const torch::Tensor& x, double cap) { return torch::tanh(x / cap) * cap; }

}  // namespace breadth::model
