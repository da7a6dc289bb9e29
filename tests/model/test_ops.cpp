// The decoder step's small ops (lib/model/ops.cpp) against transformers' formulas written out with
// libtorch ops here: apply_rope bit for bit (the CPU loop for a decode step's few rows rounds each
// product and the sum where libtorch's ops round them), rms_norm within a bound derived from its
// roundings, and both on tensors large enough for libtorch's own kernels.
#include <cmath>

#include "model/ops.hpp"
#include "model_test_util.hpp"

using namespace breadth;

namespace {

// transformers' LlamaRotaryEmbedding / apply_rotary_pos_emb: q * cos + rotate_half(q) * sin on the
// first cos.size(-1) dimensions, the rest passed (partial rotary).
torch::Tensor rope_reference(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t rot = cos.size(-1), half = rot / 2;
  auto head = x.narrow(-1, 0, rot);
  auto rotated = torch::cat({-head.narrow(-1, half, half), head.narrow(-1, 0, half)}, -1);
  auto out = head * cos + rotated * sin;
  return rot == x.size(-1) ? out : torch::cat({out, x.narrow(-1, rot, x.size(-1) - rot)}, -1);
}

// LlamaRMSNorm (weight after the cast) and Olmo2/Gemma (weight before it), in float64: the exact
// values the float32 computation approximates.
torch::Tensor rms_norm_exact(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto xd = x.to(torch::kDouble);
  return xd * torch::rsqrt(xd.pow(2).mean(-1, true) + eps) * w.to(torch::kDouble);
}

}  // namespace

TEST_CASE("apply_rope equals transformers' formula bit for bit, decode-sized and prompt-sized") {
  torch::manual_seed(5);
  for (auto dt : {torch::kFloat32, torch::kBFloat16})
    for (auto [B, T] : {std::pair<int64_t, int64_t>{1, 1}, {3, 1}, {2, 5}, {4, 300}})
      for (auto [D, rot] : {std::pair<int64_t, int64_t>{64, 64}, {32, 16}, {80, 32}}) {
        INFO("dtype " << dt << " B " << B << " T " << T << " D " << D << " rotary " << rot);
        const int64_t H = 3;
        // As the decoder passes it: a narrow of the stacked q/k/v output, viewed as [B, H, T, D].
        auto qkv = (torch::randn({B, T, 2 * H * D}) * 3).to(dt);
        auto x = qkv.narrow(-1, H * D, H * D).reshape({B, T, H, D}).transpose(1, 2);
        auto positions = torch::randint(0, 5000, {B, T}, torch::kInt64);
        auto inv_freq = torch::rand({rot / 2}) + 1e-3;
        auto [cos, sin] = model::rope_cos_sin(positions, inv_freq, dt);
        auto got = model::apply_rope(x, cos, sin);
        auto want = rope_reference(x, cos, sin);
        REQUIRE(got.sizes() == want.sizes());
        CHECK(got.scalar_type() == dt);
        CHECK(torch::equal(got, want));
      }
}

TEST_CASE("rms_norm is within its roundings of the exact value, decode-sized and prompt-sized") {
  torch::manual_seed(6);
  const double eps = 1e-5;
  for (auto dt : {torch::kFloat32, torch::kBFloat16})
    for (bool weight_in_f32 : {false, true})
      for (auto shape : {std::vector<int64_t>{1, 1, 576}, {10, 1, 576}, {2, 3, 8, 40}, {3, 7}, {1, 200, 576}})
        for (double scale : {1.0, 1e-3, 300.0}) {
          INFO("dtype " << dt << " weight in float32 " << weight_in_f32 << " rows of " << shape.back() << " scale "
                        << scale);
          auto x = (torch::randn(shape) * scale).to(dt);
          // Gemma/OLMo-2 keep their weight in float32; Llama's is in the model dtype.
          auto w = (torch::randn({shape.back()}) + 1).to(weight_in_f32 ? torch::kFloat32 : dt);
          auto got = model::rms_norm(x, w, eps, weight_in_f32);
          REQUIRE(got.sizes() == x.sizes());
          CHECK(got.scalar_type() == dt);
          auto exact = rms_norm_exact(x, w, eps);
          // float32: the mean of squares, the reciprocal square root and two products, each within
          // 2^-24 of itself, and the sum's float32 error (n terms, at most n * 2^-24): 1e-4 of the
          // value for 576 terms. Each rounding to bfloat16 (8 significant bits) adds up to 2^-8 of
          // the value: one with the weight in float32, two in Llama's order (the normalized value,
          // then its product with the weight).
          const double rel =
              1e-4 + (dt == torch::kBFloat16 ? std::ldexp(1.0, weight_in_f32 ? -8 : -7) : 0.0);
          auto err = (got.to(torch::kDouble) - exact).abs();
          auto bound = exact.abs() * rel + 1e-30;
          CHECK((err <= bound).all().item<bool>());
          if (dt == torch::kBFloat16) {
            // And it is transformers' own bfloat16 result but where the float32 value sits within
            // the sum's error of a rounding boundary: a few of every thousand values, one step off.
            auto xf = x.to(torch::kFloat32);
            auto normed = xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps);
            auto want = weight_in_f32 ? (normed * w.to(torch::kFloat32)).to(dt) : w * normed.to(dt);
            auto differ = got.ne(want);
            CHECK(differ.to(torch::kDouble).mean().item<double>() < 0.01);
            auto step = (got.to(torch::kDouble) - want.to(torch::kDouble)).abs();
            CHECK((step.masked_select(differ) <= want.to(torch::kDouble).abs().masked_select(differ) *
                                                     std::ldexp(1.0, -7))
                      .all()
                      .item<bool>());
          }
        }
}
