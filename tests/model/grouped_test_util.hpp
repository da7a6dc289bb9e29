// Random grouped weights (model::GroupQuantized) in each form a GGUF file's blocks take, and their
// exact values: shared by the CPU and GPU tests of the grouped projections.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <utility>
#include <vector>

#include "model/projection.hpp"
#include "model/weights.hpp"

namespace breadth::test {

// How random_groups makes its scales: float16 values per group as Q4_0/Q4_1/Q5_x/Q8_0 store them
// (the projection keeps them in float16), arbitrary float32 per group, or a K type's two levels
// (half-valued floats per 256 elements times signed bytes per group) with offsets of their own
// (Q4_K, Q5_K, Q2_K) or fixed multiples of the scales (Q6_K, Q3_K).
enum class Scales { kHalf, kFloat, kFactored, kFactoredShared };

// Random codes of `bits` (2..6: unsigned; 8: int8) with a scale and offset per `group` elements.
inline model::GroupQuantized random_groups(int bits, int64_t n, int64_t k, uint64_t seed,
                                           Scales scales = Scales::kHalf, int64_t group = 32) {
  torch::manual_seed(seed);
  model::GroupQuantized g;
  g.bits = bits;
  g.group = group;
  const int64_t groups = k / group;
  if (bits < 8) {
    g.q = torch::randint(0, 1 << bits, {n, k}, torch::kUInt8);
    g.scale = torch::rand({n, groups}) * 0.02 + 1e-3;
    g.offset = -8.0 * g.scale + torch::randn({n, groups}) * 0.01;
    g.offset.narrow(0, 0, n / 4).copy_(-8.0 * g.scale.narrow(0, 0, n / 4));  // Q4_0's rows
  } else {
    g.q = torch::randint(-128, 128, {n, k}, torch::kInt8);
    g.scale = torch::rand({n, groups}) * 2e-3 + 1e-4;
    g.offset = torch::zeros({n, groups});
  }
  if (scales == Scales::kHalf) {
    g.scale = g.scale.to(torch::kHalf).to(torch::kFloat32);
    g.offset = g.offset.to(torch::kHalf).to(torch::kFloat32);
  } else if (scales != Scales::kFloat) {
    const int64_t supers = k / 256;
    const bool shared = scales == Scales::kFactoredShared;
    g.super_scale = (torch::rand({n, supers}) * 1e-3 + 1e-4).to(torch::kHalf).to(torch::kFloat32);
    g.sub_scale = torch::randint(shared ? -32 : 0, 64, {n, groups}, torch::kInt8);
    // Q6_K's offset -32 d sc shares sc; Q4_K's -dmin m has its own m.
    g.super_offset = shared ? -32.0 * g.super_scale
                            : -(torch::rand({n, supers}) * 1e-2).to(torch::kHalf).to(torch::kFloat32);
    if (!shared) g.sub_offset = torch::randint(0, 64, {n, groups}, torch::kInt8);
    const auto& sub_offset = shared ? g.sub_scale : g.sub_offset;
    g.scale = g.super_scale.repeat_interleave(256 / group, 1) * g.sub_scale.to(torch::kFloat32);
    g.offset = g.super_offset.repeat_interleave(256 / group, 1) * sub_offset.to(torch::kFloat32);
  }
  return g;
}

// scale * q + offset in float64 (exact: a product has at most 24 + 8 significant bits).
inline torch::Tensor exact_weight(const model::GroupQuantized& g) {
  auto per = [&](const torch::Tensor& v) { return v.to(torch::kDouble).repeat_interleave(g.group, 1); };
  return g.q.to(torch::kDouble) * per(g.scale) + per(g.offset);
}

/// A grouped weight's form: code bits, elements per scale, how its scales are held.
struct GroupedForm {
  int bits;
  int64_t group;
  Scales scales;
};

/// The GGUF types' forms (Q4_0/Q4_1, Q8_0, Q5_0/Q5_1, Q4_K, Q5_K, Q6_K, Q3_K, Q2_K), float32 scales
/// (what a mix of forms without two levels falls back to), and a cat_rows mix (Q5_K beside Q6_K).
inline std::vector<GroupedForm> grouped_forms() {
  return {{4, 32, Scales::kHalf},     {8, 32, Scales::kHalf},           {5, 32, Scales::kHalf},
          {4, 32, Scales::kFactored}, {5, 32, Scales::kFactored},       {6, 16, Scales::kFactoredShared},
          {3, 16, Scales::kFactoredShared}, {2, 16, Scales::kFactored}, {4, 32, Scales::kFloat},
          {8, 16, Scales::kFloat},    {6, 16, Scales::kFactored}};
}

/// Projection::grouped of random weights in `form`, on `device`, against scale * q + offset in
/// float64, for a few sizes and 1-40 rows (the decode kernel up to kGemvMaxRows rows, dequantized
/// slices through a GEMM beyond; 1040 x 4096 takes three CPU slices).
/// float32: each weight is scale * q + offset rounded once, then an in-term dot product, so the error
/// is within the (K + 1)-term bound (K + 1) u / (1 - (K + 1) u) sum |x| |w| (u = 2^-24), plus one
/// rounding of adding the bias. bfloat16 activations: the same plus the output's rounding to bfloat16
/// (2^-8 of it) and, for a prompt, the weights' rounding to bfloat16 (what expanding them to a
/// bfloat16 model does).
inline void check_grouped_projection(const GroupedForm& form, const torch::Device& device) {
  const auto [bits, group, scales] = form;
  const double u = std::ldexp(1.0, -24), ub = std::ldexp(1.0, -8);
  // Sizes whose K is not a multiple of 256 for the forms that allow them (the K types' is).
  const bool two_level = scales == Scales::kFactored || scales == Scales::kFactoredShared;
  for (auto [n, k] : two_level ? std::vector<std::pair<int64_t, int64_t>>{{48, 256}, {50, 768}, {1040, 4096}}
                               : std::vector<std::pair<int64_t, int64_t>>{{48, 64}, {50, 576}, {1040, 4096}}) {
    auto g = random_groups(bits, n, k, 11 + static_cast<uint64_t>(bits), scales, group);
    auto bias = torch::randn({n});
    auto p = model::Projection::grouped(g, bias, device);
    CHECK(p.quantized());
    auto w = exact_weight(g);
    const double kk = static_cast<double>(k) + 1, gamma = kk * u / (1 - kk * u);
    for (int64_t rows : {1, 3, 10, 16, 17, 40}) {
      INFO(bits << " bits, groups of " << group << ", scales " << static_cast<int>(scales) << ", N " << n << ", K "
                 << k << ", rows " << rows << ", on " << device.str());
      auto x = torch::randn({rows, 1, k});  // any leading shape
      auto y = p(x.to(device)).cpu();
      REQUIRE(y.sizes() == torch::IntArrayRef({rows, 1, n}));
      CHECK(y.scalar_type() == torch::kFloat32);
      auto x64 = x.reshape({rows, k}).to(torch::kDouble);
      auto want = torch::matmul(x64, w.t()) + bias.to(torch::kDouble);
      auto mass = torch::matmul(x64.abs(), w.abs().t());
      auto err = (y.reshape({rows, n}).to(torch::kDouble) - want).abs();
      auto bound = gamma * mass + std::ldexp(1.0, -23) * want.abs();
      INFO("worst err / bound: " << (err / bound).max().item<double>());
      CHECK((err <= bound).all().item<bool>());

      auto xb = x.to(torch::kBFloat16);
      auto yb = p(xb.to(device)).cpu();
      CHECK(yb.scalar_type() == torch::kBFloat16);
      auto xb64 = xb.reshape({rows, k}).to(torch::kDouble);
      auto want_b = torch::matmul(xb64, w.t()) + bias.to(torch::kDouble);
      auto mass_b = torch::matmul(xb64.abs(), w.abs().t());
      auto err_b = (yb.reshape({rows, n}).to(torch::kDouble) - want_b).abs();
      auto bound_b = (gamma + ub) * mass_b + 2 * ub * want_b.abs() + ub * bias.abs().to(torch::kDouble);
      CHECK((err_b <= bound_b).all().item<bool>());
    }
  }
}

}  // namespace breadth::test
