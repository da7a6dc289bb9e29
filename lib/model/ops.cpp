#include "model/ops.hpp"

#include <torch/torch.h>

#include <cmath>

#include "core/check.hpp"

namespace breadth::model {

torch::Tensor rope_inv_freq(const RopeSpec& spec, int64_t head_dim, torch::Device device) {
  // Same operations in the same order as transformers, so float32 results agree to the last bit.
  auto exponent = torch::arange(0, head_dim, 2, torch::kInt64).to(torch::kFloat32) /
                  static_cast<double>(head_dim);
  auto inv_freq = torch::pow(torch::Scalar(spec.theta), exponent).reciprocal();
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
                                                     torch::ScalarType dtype) {
  auto freqs = positions.unsqueeze(-1).to(torch::kFloat32) * inv_freq;  // [B, T, D/2]
  auto emb = torch::cat({freqs, freqs}, -1).unsqueeze(1);             // [B, 1, T, D]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, half);
  auto rotated = torch::cat({-x2, x1}, -1);
  return x * cos + rotated * sin;
}

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps,
                       bool weight_in_f32) {
  const auto dtype = x.scalar_type();
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

torch::Tensor attention_mask(const torch::Tensor& key_valid, const torch::Tensor& key_pos,
                             const torch::Tensor& query_pos, int64_t past_columns, int64_t window) {
  const int64_t total = key_valid.size(1);
  const int64_t t = query_pos.size(1);
  auto opts = torch::TensorOptions().dtype(torch::kInt64).device(key_valid.device());
  auto cols = torch::arange(total, opts).unsqueeze(0);                // [1, K]
  auto qcols = torch::arange(past_columns, past_columns + t, opts).unsqueeze(1);  // [T, 1]
  auto mask = key_valid.unsqueeze(1) & (cols <= qcols).unsqueeze(0);  // [B, T, K]
  if (window > 0) mask &= (query_pos.unsqueeze(2) - key_pos.unsqueeze(1)) < window;
  mask |= (cols == qcols).unsqueeze(0);
  return mask.unsqueeze(1);
}

torch::Tensor last_valid_index(const torch::Tensor& valid) {
  const int64_t t = valid.size(1);
  return (t - 1) - valid.flip({1}).to(torch::kInt32).argmax(1).to(torch::kInt64);
}

torch::Tensor softcap(const torch::Tensor& x, double cap) { return torch::tanh(x / cap) * cap; }

}  // namespace breadth::model
