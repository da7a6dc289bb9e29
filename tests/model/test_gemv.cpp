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

void check_against_float64(int64_t rows, int64_t in, int64_t out, model::CpuIsa isa, bool bf16) {
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
    for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2})
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
    for (int64_t in : {1, 31, 32, 33, 64, 100, 576, 1000})
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

// How a random grouped weight holds its scales: GroupedWeight's three forms, the two-level one
// with offsets of their own or sharing the scales' integers.
enum class ScaleForm { kHalf, kFloat, kFactored, kFactoredShared };

// A grouped weight built from random code bytes and scales, and q as a plain [out, in] matrix decoded
// here from GroupedWeight's definition of the layout (per chunk of 32: a plane of the low bits, 4
// bits two to a byte as q_j | q_{16+j} << 4, 2 bits four to a byte as q_{8i+j} << 2i; then a
// little-endian uint32 per higher bit), independently of the kernels and of pack_codes.
struct RandomGrouped {
  torch::Tensor codes, scale, offset, q;
  torch::Tensor super_scale, super_offset, sub_scale, sub_offset;
  model::GroupedWeight w;

  RandomGrouped(int bits, ScaleForm form, int64_t out, int64_t in, int64_t group = 32) {
    const int64_t groups = in / group, chunks = in / 32;
    if (bits == 8) {
      codes = torch::randint(-128, 128, {out, in}, torch::kInt8);
      q = codes.to(torch::kInt32);
    } else {
      codes = torch::randint(0, 256, {out, chunks * 4 * bits}, torch::kUInt8);
      auto c = codes.to(torch::kInt32).reshape({out, chunks, 4 * bits});
      const int base = bits < 4 ? 2 : 4;
      if (base == 4) {
        auto b = c.narrow(2, 0, 16);
        q = torch::cat({b.bitwise_and(15), b.bitwise_right_shift(4)}, -1);
      } else {
        auto b = c.narrow(2, 0, 8);
        std::vector<torch::Tensor> quarters;
        for (int i = 0; i < 4; ++i) quarters.push_back(b.bitwise_right_shift(2 * i).bitwise_and(3));
        q = torch::cat(quarters, -1);
      }
      const auto bit = torch::arange(8, torch::kInt32);
      for (int h = 0; h < bits - base; ++h) {
        auto plane = c.narrow(2, 4 * base + 4 * h, 4).unsqueeze(-1).bitwise_right_shift(bit).bitwise_and(1);
        q = q.bitwise_or(plane.reshape({out, chunks, 32}).bitwise_left_shift(base + h));
      }
      q = q.reshape({out, in});
    }
    w.bits = bits;
    w.group = group;
    w.codes = static_cast<const uint8_t*>(codes.data_ptr());
    w.in = in;
    w.out = out;
    if (form == ScaleForm::kHalf || form == ScaleForm::kFloat) {
      // Q4_1-like: positive scales, offsets near -8 scale; float16 values for kHalf.
      auto s = torch::rand({out, groups}) * 0.02 + 1e-3;
      auto z = -8.0 * s + torch::randn({out, groups}) * 0.01;
      const bool half = form == ScaleForm::kHalf;
      w.scales = half ? model::GroupedWeight::Scales::kHalf : model::GroupedWeight::Scales::kFloat;
      w.scale = (scale_store = half ? s.to(torch::kHalf) : s).data_ptr();
      w.offset = (offset_store = half ? z.to(torch::kHalf) : z).data_ptr();
      scale = scale_store.to(torch::kFloat32);
      offset = offset_store.to(torch::kFloat32);
    } else {
      // A K type's two levels: half-valued floats per 256 elements, signed bytes per group.
      const int64_t supers = in / 256, repeat = 256 / group;
      super_scale = (torch::rand({out, supers}) * 0.01 + 1e-4).to(torch::kHalf).to(torch::kFloat32);
      super_offset = (-torch::rand({out, supers}) * 0.01).to(torch::kHalf).to(torch::kFloat32);
      sub_scale = torch::randint(-64, 64, {out, groups}, torch::kInt8);
      sub_offset = torch::randint(-64, 64, {out, groups}, torch::kInt8);
      const bool shared = form == ScaleForm::kFactoredShared;
      w.scales = model::GroupedWeight::Scales::kFactored;
      w.super_scale = super_scale.data_ptr<float>();
      w.super_offset = super_offset.data_ptr<float>();
      w.sub_scale = sub_scale.data_ptr<int8_t>();
      w.sub_offset = shared ? nullptr : sub_offset.data_ptr<int8_t>();
      // The products in float32, as the file's readers form them (exact: 11 + 7 bits).
      scale = super_scale.repeat_interleave(repeat, 1) * sub_scale.to(torch::kFloat32);
      offset = super_offset.repeat_interleave(repeat, 1) * (shared ? sub_scale : sub_offset).to(torch::kFloat32);
    }
  }
  // scale * q + offset, exact (float64: at most 24 + 8 significant bits per product).
  torch::Tensor exact() const {
    auto per = [&](const torch::Tensor& v) { return v.to(torch::kDouble).repeat_interleave(w.group, 1); };
    return q.to(torch::kDouble) * per(scale) + per(offset);
  }

 private:
  torch::Tensor scale_store, offset_store;
};

// Every form the kernels are built for, with each way of holding scales that applies.
struct GroupedForm {
  int bits;
  int64_t group;
  ScaleForm scales;
};
std::vector<GroupedForm> grouped_forms() {
  std::vector<GroupedForm> forms;
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int64_t group : {32, 16})
      for (auto f : {ScaleForm::kHalf, ScaleForm::kFloat, ScaleForm::kFactored, ScaleForm::kFactoredShared})
        forms.push_back({bits, group, f});
  return forms;
}

}  // namespace

TEST_CASE("gemv_grouped equals a float64 reference within the float32 dot-product bound") {
  // Each weight is scale * q + offset rounded once to float32 (one more rounding per term than a
  // float weight), so the bound is that of an (n + 1)-term product sum. bfloat16 activations are
  // exact inputs; a bfloat16 output adds one rounding of 2^-8 of itself.
  const double u = std::ldexp(1.0, -24);
  torch::manual_seed(8);
  for (const auto& [bits, group, form] : grouped_forms())
    for (int64_t rows : {1, 2, 3, 5, 10, 16})
      for (int64_t in : form == ScaleForm::kHalf || form == ScaleForm::kFloat ? std::vector<int64_t>{32, 64, 96, 576}
                                                                              : std::vector<int64_t>{256, 768})
        for (int64_t out : {1, 4, 5, 33, 96}) {
          INFO(bits << " bits, groups of " << group << ", scales " << static_cast<int>(form) << ", rows " << rows
                    << " in " << in << " out " << out);
          RandomGrouped g(bits, form, out, in, group);
          auto w = g.exact();
          const double n = static_cast<double>(in) + 1, gamma = n * u / (1 - n * u);
          for (bool bf16_x : {false, true})
            for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2}) {
              INFO("bf16 x " << bf16_x << " isa " << static_cast<int>(isa));
              auto x = torch::randn({rows, in});
              if (bf16_x) x = x.to(torch::kBFloat16).to(torch::kFloat32);
              auto ref = torch::matmul(x.to(torch::kDouble), w.t());
              auto bound = torch::matmul(x.abs().to(torch::kDouble), w.abs().t()) * gamma;
              auto y = torch::full({rows, out}, NAN);
              if (bf16_x) {
                auto xb = x.to(torch::kBFloat16);
                const auto* xp = reinterpret_cast<const uint16_t*>(xb.data_ptr());
                REQUIRE(model::gemv_grouped(xp, rows, g.w, y.data_ptr<float>(), isa));
                auto yb = torch::empty({rows, out}, torch::kBFloat16);
                REQUIRE(model::gemv_grouped(xp, rows, g.w, reinterpret_cast<uint16_t*>(yb.data_ptr()), isa));
                // The bfloat16 output is the float32 one rounded as libtorch rounds.
                CHECK(torch::equal(yb, y.to(torch::kBFloat16)));
              } else {
                REQUIRE(model::gemv_grouped(x.data_ptr<float>(), rows, g.w, y.data_ptr<float>(), isa));
              }
              CHECK(((y.to(torch::kDouble) - ref).abs() <= bound).all().item<bool>());
              CHECK(torch::isfinite(y).all().item<bool>());
            }
        }
  float x = 1, y = 0;
  RandomGrouped g(4, ScaleForm::kHalf, 1, 32);
  CHECK_FALSE(model::gemv_grouped(&x, model::kGemvMaxRows + 1, g.w, &y));
  CHECK_FALSE(model::gemv_grouped(&x, 0, g.w, &y));
}

TEST_CASE("dequantize_grouped gives scale * q + offset rounded once, in float32 and bfloat16") {
  torch::manual_seed(9);
  for (const auto& [bits, group, form] : grouped_forms()) {
    INFO(bits << " bits, groups of " << group << ", scales " << static_cast<int>(form));
    const int64_t in = form == ScaleForm::kHalf || form == ScaleForm::kFloat ? 96 : 512;
    RandomGrouped g(bits, form, 37, in, group);
    // Rounding the exact float64 value to float32 is the one rounding a fused multiply-add makes.
    auto want = g.exact().to(torch::kFloat32);
    for (auto isa : {model::CpuIsa::kBest, model::CpuIsa::kAvx2}) {
      INFO("isa " << static_cast<int>(isa));
      auto f = torch::empty({37, in});
      model::dequantize_grouped(g.w, 0, 37, f.data_ptr<float>(), isa);
      CHECK(torch::equal(f, want));
      auto tail = torch::empty({7, in});
      model::dequantize_grouped(g.w, 30, 37, tail.data_ptr<float>(), isa);
      CHECK(torch::equal(tail, want.narrow(0, 30, 7)));
      auto b = torch::empty({37, in}, torch::kBFloat16);
      model::dequantize_grouped(g.w, 0, 37, b.data_ptr<c10::BFloat16>(), isa);
      CHECK(torch::equal(b, want.to(torch::kBFloat16)));
    }
  }
}
