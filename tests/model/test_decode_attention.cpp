// The CPU decode-attention kernel (lib/model/decode_attention.cpp) against libtorch's SDPA in
// float64 on the same (exactly widened) inputs: grouped heads, masked columns, a strided cache
// narrow, float32 and bfloat16 caches; its AVX-512 and AVX2 versions.
#include <cmath>

#include "model/decode_attention.hpp"
#include "model_test_util.hpp"

using namespace breadth;

namespace {

torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double scale) {
  std::optional<torch::Tensor> m;
  if (mask.defined()) m = mask;
  return at::scaled_dot_product_attention(q.to(torch::kDouble), k.to(torch::kDouble), v.to(torch::kDouble), m, 0.0,
                                          false, scale, /*enable_gqa=*/q.size(1) != k.size(1));
}

// How far a float32 computation of the reference may be from it, per output value: a score
// c = scale * q . k_c is off by at most its dot product's rounding bound (D u sum |q_d k_cd|) plus
// the scaling's and the max subtraction's (2 u |c|); a relative error e in the scores' exponentials
// moves the normalized weights by at most 2 max e of themselves, the exponential's own polynomial
// adds a few ulps (4 u), and the weighted sum of C values rounds by (C + 1) u: all of it relative
// to sum_c p_c |v_cd|.
torch::Tensor tolerance(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double scale) {
  const double u = std::ldexp(1.0, -24);
  const int64_t D = q.size(3), C = k.size(2), g = q.size(1) / k.size(1);
  auto qd = q.to(torch::kDouble), kd = k.to(torch::kDouble).repeat_interleave(g, 1);
  auto vd = v.to(torch::kDouble).repeat_interleave(g, 1);
  auto scores = torch::matmul(qd, kd.transpose(2, 3)) * scale;                                    // [B, nq, 1, C]
  auto err = torch::matmul(qd.abs(), kd.abs().transpose(2, 3)) * (scale * D * u) + scores.abs() * (2 * u);
  if (mask.defined()) {
    scores = scores.masked_fill(mask.logical_not(), -INFINITY);
    err = err.masked_fill(mask.logical_not(), 0);
  }
  auto p = torch::softmax(scores, -1);
  auto e = std::get<0>(err.max(-1, /*keepdim=*/true));
  return (2 * e + (4 + C + 1) * u) * torch::matmul(p, vd.abs());
}

}  // namespace

TEST_CASE("decode_attention equals SDPA in float64 on the same inputs") {
  torch::manual_seed(11);
  // Both kernels (the widest this CPU has, and AVX2's); head sizes of 8 and 24 are AVX2's alone.
  for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2})
    for (auto dt : {torch::kFloat32, torch::kBFloat16})
      for (int64_t B : {1, 3})
        for (auto [nq, nkv] : {std::pair<int64_t, int64_t>{4, 4}, {6, 2}, {9, 3}, {8, 1}, {10, 1}})
          for (int64_t D : isa == model::CpuIsa::kAvx2 ? std::vector<int64_t>{8, 24, 64}
                                                       : std::vector<int64_t>{16, 64})
            for (int64_t C : {1, 7, 16, 130})
              for (bool masked : {false, true})
                for (double q_size : {2.0, 40.0}) {  // 40: scores over +-100, softmax terms down to 0
                  INFO("isa " << static_cast<int>(isa) << " dtype " << dt << " B " << B << " heads " << nq << "/"
                              << nkv << " D " << D << " C " << C << " masked " << masked << " q size " << q_size);
                  // The cache is a narrow of a longer buffer, as the decoder passes it.
                  auto kbuf = torch::randn({B, nkv, C + 5, D}).to(dt);
                  auto vbuf = torch::randn({B, nkv, C + 5, D}).to(dt);
                  auto k = kbuf.narrow(2, 0, C), v = vbuf.narrow(2, 0, C);
                  auto q = (torch::randn({B, nq, 1, D}) * q_size).to(dt);
                  torch::Tensor mask;
                  if (masked) {
                    mask = torch::rand({B, 1, 1, C}) > 0.3;
                    mask.select(3, C - 1).fill_(true);  // a token always sees its own column
                  }
                  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
                  auto got = model::decode_attention(q, k, v, mask, scale, isa);
                  REQUIRE(got.has_value());
                  CHECK(got->scalar_type() == torch::kFloat32);
                  auto want = reference(q, k, v, mask, scale);
                  auto diff = (got->to(torch::kDouble) - want).abs();
                  auto tol = tolerance(q, k, v, mask, scale);
                  INFO("largest difference " << diff.max().item<double>() << ", tolerance there "
                                             << tol.flatten()[diff.flatten().argmax()].item<double>());
                  CHECK((diff <= tol).all().item<bool>());
                }
}

TEST_CASE("decode_attention never reads a hidden column's values into the output") {
  // A slot the mask hides may hold anything (a fixed-shape step's unwritten capacity): NaN keys and
  // values there must not reach the result, which equals the reference over the clean cache.
  torch::manual_seed(12);
  for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2})
    for (int64_t C : {5, 40}) {
      INFO("isa " << static_cast<int>(isa) << " C " << C);
      auto q = torch::randn({2, 6, 1, 32}), k = torch::randn({2, 2, C, 32}), v = torch::randn({2, 2, C, 32});
      auto mask = torch::rand({2, 1, 1, C}) > 0.4;
      mask.select(3, 0).fill_(true);
      mask.select(3, 1).fill_(false);
      auto kn = k.clone(), vn = v.clone();
      kn.select(2, 1).fill_(NAN);
      vn.select(2, 1).fill_(NAN);
      auto got = model::decode_attention(q, kn, vn, mask, 0.2, isa);
      REQUIRE(got.has_value());
      CHECK(torch::isfinite(*got).all().item<bool>());
      CHECK(torch::allclose(got->to(torch::kDouble), reference(q, k, v, mask, 0.2), 1e-5, 1e-5));
    }
}

TEST_CASE("decode_attention declines what it is not built for") {
  auto q = torch::randn({1, 2, 1, 16}), k = torch::randn({1, 2, 4, 16}), v = torch::randn({1, 2, 4, 16});
  torch::Tensor none;
  CHECK(model::decode_attention(q, k, v, none, 0.25).has_value());
  CHECK_FALSE(model::decode_attention(torch::randn({1, 2, 2, 16}), k, v, none, 0.25));  // two query rows
  CHECK(model::decode_attention(q, k, v, none, 0.25, model::CpuIsa::kAvx2).has_value());
  for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2})  // D not a multiple of 8
    CHECK_FALSE(model::decode_attention(torch::randn({1, 2, 1, 12}), torch::randn({1, 2, 4, 12}),
                                        torch::randn({1, 2, 4, 12}), none, 0.25, isa));
  CHECK_FALSE(model::decode_attention(q, k.transpose(2, 3).contiguous().transpose(2, 3), v, none, 0.25));  // rows strided
  CHECK_FALSE(model::decode_attention(q, k.to(torch::kDouble), v.to(torch::kDouble), none, 0.25));
  CHECK_FALSE(model::decode_attention(q, k, v, torch::ones({1, 1, 1, 3}, torch::kBool), 0.25));  // mask of 3 columns
}
