// The decode step's float32 projection kernel (lib/model/gemv.cpp) against a float64 reference,
// with the textbook bound of a float32 dot product: |fl(x.w) - x.w| <= n u / (1 - n u) sum |x_k w_k|
// (u = 2^-24) whatever the summation order, since each partial sum rounds once per addition and
// no term passes through more than n additions.
#include <cmath>

#include "model/gemv.hpp"
#include "model/projection.hpp"
#include "model_test_util.hpp"

using namespace breadth;

namespace {

void check_against_float64(int64_t rows, int64_t in, int64_t out, model::GemvIsa isa, bool bf16) {
  INFO("rows " << rows << " in " << in << " out " << out << " isa " << static_cast<int>(isa) << " bf16 " << bf16);
  auto x = torch::randn({rows, in});
  auto w = torch::randn({out, in});
  auto y = torch::full({rows, out}, NAN);
  if (bf16) {
    auto wb = w.to(torch::kBFloat16);
    w = wb.to(torch::kFloat32);  // the reference sees exactly the weights the kernel widens
    REQUIRE(model::gemv_bf16(x.data_ptr<float>(), rows, reinterpret_cast<const uint16_t*>(wb.data_ptr()), in, out,
                             y.data_ptr<float>(), isa));
  } else {
    REQUIRE(model::gemv_f32(x.data_ptr<float>(), rows, w.data_ptr<float>(), in, out, y.data_ptr<float>(), isa));
  }
  auto ref = torch::matmul(x.to(torch::kDouble), w.to(torch::kDouble).t());
  auto mass = torch::matmul(x.abs().to(torch::kDouble), w.abs().to(torch::kDouble).t());
  const double u = std::ldexp(1.0, -24), n = static_cast<double>(in);
  auto bound = mass * (n * u / (1 - n * u));
  auto err = (y.to(torch::kDouble) - ref).abs();
  CHECK((err <= bound).all().item<bool>());
  CHECK(torch::isfinite(y).all().item<bool>());  // every element written
}

}  // namespace

TEST_CASE("gemv_f32 equals a float64 reference within the float32 dot-product bound") {
  torch::manual_seed(3);
  for (bool bf16 : {false, true})
    for (auto isa : {model::GemvIsa::kBest, model::GemvIsa::kAvx2})
      for (int64_t rows : {1, 2, 5, 7, 16})
        for (int64_t in : {1, 15, 64, 100, 576})
          for (int64_t out : {1, 6, 33, 577}) check_against_float64(rows, in, out, isa, bf16);
}

TEST_CASE("gemv_bf16_bf16 equals a float64 reference within the float32 dot-product bound") {
  // Both operands bfloat16: every product is exact in float32, so the same bound holds. The kernel
  // runs exactly where the CPU has AVX512-BF16 (this project's test machines do; elsewhere it must
  // decline, and the caller widens).
  __builtin_cpu_init();
  const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512bf16");
  torch::manual_seed(6);
  for (int64_t rows : {1, 2, 5, 6, 7, 10, 13, 16})
    for (int64_t in : {1, 31, 32, 33, 64, 100, 576})
      for (int64_t out : {1, 3, 4, 6, 33, 577}) {
        INFO("rows " << rows << " in " << in << " out " << out);
        auto x = torch::randn({rows, in}).to(torch::kBFloat16);
        auto w = torch::randn({out, in}).to(torch::kBFloat16);
        auto y = torch::full({rows, out}, NAN);
        const bool ran = model::gemv_bf16_bf16(reinterpret_cast<const uint16_t*>(x.data_ptr()), rows,
                                               reinterpret_cast<const uint16_t*>(w.data_ptr()), in, out,
                                               y.data_ptr<float>());
        REQUIRE(ran == has);
        if (!ran) continue;
        auto xd = x.to(torch::kDouble), wd = w.to(torch::kDouble);
        auto ref = torch::matmul(xd, wd.t());
        auto mass = torch::matmul(xd.abs(), wd.abs().t());
        const double u = std::ldexp(1.0, -24), n = static_cast<double>(in);
        CHECK(((y.to(torch::kDouble) - ref).abs() <= mass * (n * u / (1 - n * u))).all().item<bool>());
        CHECK(torch::isfinite(y).all().item<bool>());
        // The bfloat16-output overload rounds exactly as libtorch's .to(bfloat16) rounds its sums.
        auto yb = torch::empty({rows, out}, torch::kBFloat16);
        REQUIRE(model::gemv_bf16_bf16(reinterpret_cast<const uint16_t*>(x.data_ptr()), rows,
                                      reinterpret_cast<const uint16_t*>(w.data_ptr()), in, out,
                                      reinterpret_cast<uint16_t*>(yb.data_ptr())));
        CHECK(torch::equal(yb, y.to(torch::kBFloat16)));
      }
  float yf = 0;
  uint16_t one = 0x3f80;  // 1.0
  CHECK_FALSE(model::gemv_bf16_bf16(&one, model::kGemvMaxRows + 1, &one, 1, 1, &yf));
}

TEST_CASE("gemv_f32 declines more rows than it is built for") {
  float x = 1, w = 1, y = 0;
  CHECK_FALSE(model::gemv_f32(&x, model::kGemvMaxRows + 1, &w, 1, 1, &y));
  CHECK_FALSE(model::gemv_f32(&x, 0, &w, 1, 1, &y));
}

TEST_CASE("a bfloat16 projection: the kernel for a few rows, linear for many, within bfloat16's rounding") {
  torch::manual_seed(5);
  auto w = torch::randn({96, 200}).to(torch::kBFloat16);
  auto b = torch::randn({96}).to(torch::kBFloat16);
  auto p = model::Projection::dense(w, b);
  for (int64_t rows : {1, 3, 16, 17}) {
    INFO("rows " << rows);
    auto x = torch::randn({rows, 200}).to(torch::kBFloat16);
    auto want = torch::nn::functional::linear(x.to(torch::kDouble), w.to(torch::kDouble), b.to(torch::kDouble));
    auto got = p(x);
    CHECK(got.scalar_type() == torch::kBFloat16);
    // One rounding of the float32 result to bfloat16 (2^-8 of it) dominates the float32 sums' error.
    auto err = (got.to(torch::kDouble) - want).abs();
    CHECK((err <= want.abs() * std::ldexp(1.0, -8) + 1e-3).all().item<bool>());
  }
}

TEST_CASE("a float32 projection: the kernel for a few rows, linear for many, the same numbers") {
  torch::manual_seed(4);
  auto w = torch::randn({96, 200});
  auto b = torch::randn({96});
  auto p = model::Projection::dense(w, b);
  for (int64_t rows : {1, 3, 16, 17, 40}) {
    INFO("rows " << rows);
    auto x = torch::randn({rows, 200});
    auto want = torch::nn::functional::linear(x.to(torch::kDouble), w.to(torch::kDouble), b.to(torch::kDouble));
    auto got = p(x.reshape({1, rows, 200}));
    CHECK(got.sizes() == torch::IntArrayRef({1, rows, 96}));
    CHECK(torch::allclose(got.reshape({rows, 96}).to(torch::kDouble), want, 1e-5, 1e-4));
  }
}

namespace {

// A grouped weight built from random codes and scales, and q as a plain [out, in] matrix decoded
// here from the layout's definition (4 bits: byte j of group g holds q_{32g+j} low and
// q_{32g+16+j} high), independently of the kernels.
struct RandomGrouped {
  torch::Tensor codes, scale, offset, q;
  model::GroupedWeight w;

  // `group`: elements per scale, 32, or 16 with 8 bits (GGUF's Q6_K, Q3_K, Q2_K).
  RandomGrouped(int bits, bool half, int64_t out, int64_t in, int64_t group = 32) {
    const int64_t groups = in / group;
    if (bits == 4) {
      codes = torch::randint(0, 256, {out, in / 2}, torch::kUInt8);
      auto b = codes.to(torch::kInt32).reshape({out, groups, 16});
      q = torch::cat({b.bitwise_and(15), b.bitwise_right_shift(4)}, -1).reshape({out, in});  // groups of 32
    } else {
      codes = torch::randint(-128, 128, {out, in}, torch::kInt8);
      q = codes.to(torch::kInt32);
    }
    // Q4_1-like: positive scales, offsets near -8 scale; float16 values when `half`.
    auto s = torch::rand({out, groups}) * 0.02 + 1e-3;
    auto z = -8.0 * s + torch::randn({out, groups}) * 0.01;
    scale = half ? s.to(torch::kHalf) : s;
    offset = half ? z.to(torch::kHalf) : z;
    w.bits = bits;
    w.codes = static_cast<const uint8_t*>(codes.data_ptr());
    w.scale = scale.data_ptr();
    w.offset = offset.data_ptr();
    w.half = half;
    w.group = group;
    w.in = in;
    w.out = out;
  }
  // scale * q + offset, exact (float64: at most 24 + 8 significant bits per product).
  torch::Tensor exact() const {
    auto per = [&](const torch::Tensor& v) { return v.to(torch::kDouble).repeat_interleave(w.group, 1); };
    return q.to(torch::kDouble) * per(scale) + per(offset);
  }
};

}  // namespace

TEST_CASE("gemv_grouped equals a float64 reference within the float32 dot-product bound") {
  // Each weight is scale * q + offset rounded once to float32 (one more rounding per term than a
  // float weight), so the bound is that of an (n + 1)-term product sum. bfloat16 activations are
  // exact inputs; a bfloat16 output adds one rounding of 2^-8 of itself.
  const double u = std::ldexp(1.0, -24);
  torch::manual_seed(8);
  for (auto [bits, group] : {std::pair<int, int64_t>{4, 32}, {8, 32}, {8, 16}})
    for (bool half : {true, false})
      for (int64_t rows : {1, 2, 3, 5, 10, 16})
        for (int64_t in : {32, 64, 576})
          for (int64_t out : {1, 4, 5, 33, 96}) {
            INFO(bits << " bits, groups of " << group << ", half " << half << ", rows " << rows << " in " << in
                      << " out " << out);
            RandomGrouped g(bits, half, out, in, group);
            auto w = g.exact();
            const double n = static_cast<double>(in) + 1, gamma = n * u / (1 - n * u);
            for (bool bf16_x : {false, true}) {
              auto x = torch::randn({rows, in});
              if (bf16_x) x = x.to(torch::kBFloat16).to(torch::kFloat32);
              auto ref = torch::matmul(x.to(torch::kDouble), w.t());
              auto bound = torch::matmul(x.abs().to(torch::kDouble), w.abs().t()) * gamma;
              auto y = torch::full({rows, out}, NAN);
              if (bf16_x) {
                auto xb = x.to(torch::kBFloat16);
                const auto* xp = reinterpret_cast<const uint16_t*>(xb.data_ptr());
                REQUIRE(model::gemv_grouped(xp, rows, g.w, y.data_ptr<float>()));
                auto yb = torch::empty({rows, out}, torch::kBFloat16);
                REQUIRE(model::gemv_grouped(xp, rows, g.w, reinterpret_cast<uint16_t*>(yb.data_ptr())));
                // The bfloat16 output is the float32 one rounded as libtorch rounds.
                CHECK(torch::equal(yb, y.to(torch::kBFloat16)));
              } else {
                REQUIRE(model::gemv_grouped(x.data_ptr<float>(), rows, g.w, y.data_ptr<float>()));
              }
              CHECK(((y.to(torch::kDouble) - ref).abs() <= bound).all().item<bool>());
              CHECK(torch::isfinite(y).all().item<bool>());
            }
          }
  float x = 1, y = 0;
  RandomGrouped g(4, true, 1, 32);
  CHECK_FALSE(model::gemv_grouped(&x, model::kGemvMaxRows + 1, g.w, &y));
  CHECK_FALSE(model::gemv_grouped(&x, 0, g.w, &y));
}

TEST_CASE("dequantize_grouped gives scale * q + offset rounded once, in float32 and bfloat16") {
  torch::manual_seed(9);
  for (auto [bits, group] : {std::pair<int, int64_t>{4, 32}, {8, 32}, {8, 16}})
    for (bool half : {true, false}) {
      INFO(bits << " bits, groups of " << group << ", half " << half);
      RandomGrouped g(bits, half, 37, 96, group);
      // Rounding the exact float64 value to float32 is the one rounding a fused multiply-add makes.
      auto want = g.exact().to(torch::kFloat32);
      auto f = torch::empty({37, 96});
      model::dequantize_grouped(g.w, 0, 37, f.data_ptr<float>());
      CHECK(torch::equal(f, want));
      auto tail = torch::empty({7, 96});
      model::dequantize_grouped(g.w, 30, 37, tail.data_ptr<float>());
      CHECK(torch::equal(tail, want.narrow(0, 30, 7)));
      auto b = torch::empty({37, 96}, torch::kBFloat16);
      model::dequantize_grouped(g.w, 0, 37, b.data_ptr<c10::BFloat16>());
      CHECK(torch::equal(b, want.to(torch::kBFloat16)));
    }
}
