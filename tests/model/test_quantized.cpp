// Quantized weights kept quantized (ModelOptions::weights = native): the grouped projection against
// dequantize-then-multiply in float64 with the float32 bound, for a few rows (the decode kernel)
// and many (a prompt: dequantized slices and a GEMM), and the real SmolLM2-135M-Instruct GGUF (Q4_1
// blocks, a Q8_0 tied embedding) against transformers, which expands the same file to float32.
#include <cmath>
#include <random>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "model/projection.hpp"
#include "model_test_util.hpp"

using namespace breadth;
using breadth::test::max_abs_diff;
using breadth::test::read_tensors;
using breadth::test::to_ids;

namespace {

// Q4_0/Q4_1/Q8_0-like groups. `half`: scales and offsets that are float16 values, as a GGUF's are
// (the projection then stores them in float16); otherwise arbitrary float32 (Q4_K's products).
// `group` 16: Q6_K-like (8 bits, a scale per 16).
model::GroupQuantized random_groups(int bits, int64_t n, int64_t k, uint64_t seed, bool half = true,
                                    int64_t group = 32) {
  torch::manual_seed(seed);
  model::GroupQuantized g;
  g.bits = bits;
  g.group = group;
  if (bits == 4) {
    g.q = torch::randint(0, 16, {n, k}, torch::kUInt8);
    g.scale = torch::rand({n, k / group}) * 0.02 + 1e-3;
    g.offset = -8.0 * g.scale + torch::randn({n, k / group}) * 0.01;
    g.offset.narrow(0, 0, n / 4).copy_(-8.0 * g.scale.narrow(0, 0, n / 4));  // Q4_0's rows
  } else {
    g.q = torch::randint(-128, 128, {n, k}, torch::kInt8);
    g.scale = torch::rand({n, k / group}) * 2e-3 + 1e-4;
    g.offset = torch::zeros({n, k / group});
  }
  if (half) {
    g.scale = g.scale.to(torch::kHalf).to(torch::kFloat32);
    g.offset = g.offset.to(torch::kHalf).to(torch::kFloat32);
  }
  return g;
}

// scale * q + offset in float64 (exact: a product has at most 24 + 8 significant bits).
torch::Tensor exact_weight(const model::GroupQuantized& g) {
  auto per = [&](const torch::Tensor& v) { return v.to(torch::kDouble).repeat_interleave(g.group, 1); };
  return g.q.to(torch::kDouble) * per(g.scale) + per(g.offset);
}

std::string gguf_path() { return breadth::test::models_dir() + "/smollm2-135m-instruct.gguf"; }

std::shared_ptr<CausalLM> load(WeightFormat w, torch::ScalarType dtype = torch::kFloat32) {
  ModelOptions o;
  o.weights = w;
  o.dtype = dtype;
  return CausalLM::load(gguf_path(), o);
}

// Mean negative log-likelihood (nats) of ids[1:] given their prefixes, one forward pass.
double mean_nll(const CausalLM& m, const std::vector<int32_t>& ids) {
  KvCache cache;
  ForwardOptions all;
  all.last_only = false;
  auto t = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
  auto logits = m.forward(cache, t, {}, all).logits[0];
  auto lp = torch::log_softmax(logits.narrow(0, 0, t.size(1) - 1).to(torch::kFloat64), -1);
  auto next = t[0].narrow(0, 1, t.size(1) - 1);
  return -lp.gather(1, next.unsqueeze(1)).mean().item<double>();
}

}  // namespace

TEST_CASE("grouped projections equal dequantize-then-multiply within the float32 bound",
          "[model][quantized]") {
  // float32: each weight is scale * q + offset rounded once, then an in-term dot product, so the
  // error is within the (K + 1)-term bound (K + 1) u / (1 - (K + 1) u) sum |x| |w| (u = 2^-24), plus
  // one rounding of adding the bias. Both routes meet it: the decode kernel (up to kGemvMaxRows
  // rows) and dequantized slices through a GEMM (more rows; 1040 x 4096 takes three slices).
  // bfloat16 activations: the same plus the output's rounding to bfloat16 (2^-8 of it) and, for a
  // prompt, the weights' rounding to bfloat16 (what expanding them to a bfloat16 model does).
  const double u = std::ldexp(1.0, -24), ub = std::ldexp(1.0, -8);
  for (auto [bits, group] : {std::pair<int, int64_t>{4, 32}, {8, 32}, {8, 16}})
    for (bool half : {true, false})
      for (auto [n, k] : {std::pair<int64_t, int64_t>{48, 64}, {50, 576}, {1040, 4096}}) {
        auto g = random_groups(bits, n, k, 11 + static_cast<uint64_t>(bits), half, group);
        auto bias = torch::randn({n});
        auto p = model::Projection::grouped(g, bias);
        CHECK(p.quantized());
        auto w = exact_weight(g);
        const double kk = static_cast<double>(k) + 1, gamma = kk * u / (1 - kk * u);
        for (int64_t rows : {1, 3, 10, 16, 17, 40}) {
          INFO(bits << " bits, groups of " << group << ", half " << half << ", N " << n << ", K " << k << ", rows "
                     << rows);
          auto x = torch::randn({rows, 1, k});  // any leading shape
          auto y = p(x);
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
          auto yb = p(xb);
          CHECK(yb.scalar_type() == torch::kBFloat16);
          auto xb64 = xb.reshape({rows, k}).to(torch::kDouble);
          auto want_b = torch::matmul(xb64, w.t()) + bias.to(torch::kDouble);
          auto mass_b = torch::matmul(xb64.abs(), w.abs().t());
          auto err_b = (yb.reshape({rows, n}).to(torch::kDouble) - want_b).abs();
          auto bound_b = (gamma + ub) * mass_b + 2 * ub * want_b.abs() + ub * bias.abs().to(torch::kDouble);
          CHECK((err_b <= bound_b).all().item<bool>());
        }
      }
  // Memory: a 4-bit group is 16 bytes of codes plus a float16 scale and offset (5 bits a weight).
  auto g = random_groups(4, 64, 256, 3);
  CHECK(model::Projection::grouped(g).weight_bytes() == 64 * 256 / 2 + 2 * 2 * 64 * 8);
  CHECK(model::Projection::grouped(random_groups(4, 64, 256, 3, false)).weight_bytes() ==
        64 * 256 / 2 + 2 * 4 * 64 * 8);
  // Inputs that are not whole chunks of 32, and 4-bit groups of 16, are refused.
  auto odd = random_groups(4, 16, 64, 1);
  odd.q = odd.q.narrow(1, 0, 48);
  CHECK_THROWS_AS(model::Projection::grouped(odd), InvalidArgument);
  CHECK_THROWS_AS(model::Projection::grouped(random_groups(4, 16, 64, 1, true, 16)), InvalidArgument);
}

TEST_CASE("SmolLM2 GGUF with native weights computes what the float32 weights compute",
          "[model][quantized][gguf]") {
  // The native path makes each weight exactly as expanding the file does (test above) and keeps
  // every product and sum in float32: against transformers on the expanded file it must meet the
  // float path's own tolerance (test_gguf.cpp: 2e-3, float32 reassociation through 30 layers), and
  // so take the same 32 greedy tokens, free-running through its own KV cache.
  auto native = load(WeightFormat::kNative);
  auto ref = read_tensors(breadth::test::fixtures_dir() + "/smollm2_reference/smollm2.ref.safetensors");
  constexpr double kTol = 2e-3;
  breadth::test::check_greedy_against_reference(*native, ref, kTol);

  // Perplexity of a fixed English paragraph within 0.5% of the float path's.
  auto fl = load(WeightFormat::kFloat);
  const std::string text =
      "The history of the city begins with a small settlement on the river, where traders stopped "
      "to rest before crossing the mountains. Over the centuries it grew into a market town, then "
      "into a center of learning with a university, libraries and printing houses. Today its old "
      "streets are full of visitors in summer, while in winter the town belongs to its students.";
  auto toks = native->tokenizer()->encode(text, false);
  REQUIRE(toks.size() > 60);
  const double ppl_native = std::exp(mean_nll(*native, toks)), ppl_float = std::exp(mean_nll(*fl, toks));
  INFO("perplexity native " << ppl_native << ", float " << ppl_float);
  CHECK(std::abs(ppl_native / ppl_float - 1) < 0.005);
}

TEST_CASE("SmolLM2 GGUF with native weights in bfloat16", "[model][quantized][gguf][bf16]") {
  // A bfloat16 model's native projections round only activations and outputs (the weights stay
  // exact); the float path in bfloat16 also rounds every weight. So the native deviation from
  // float32 over the chat prompt, prompt and decode, must not exceed the float path's in bfloat16.
  auto ref = read_tensors(breadth::test::fixtures_dir() + "/smollm2_reference/smollm2.ref.safetensors");
  auto want = ref["greedy_ids"];
  auto fed = torch::cat({ref["prompt_ids"], want}).unsqueeze(0);
  const int64_t P = ref["prompt_ids"].size(0), S = want.size(0) + 1;
  // The prompt at once (slices and a GEMM), then the greedy tokens one step at a time (the kernel).
  auto run = [&](const CausalLM& m) {
    KvCache c;
    ForwardOptions all;
    all.last_only = false;
    std::vector<torch::Tensor> out{m.forward(c, fed.narrow(1, 0, P), {}, all).logits[0].to(torch::kFloat32)};
    for (int64_t s = 0; s + 1 < S; ++s) out.push_back(m.decode(c, want.narrow(0, s, 1)).to(torch::kFloat32));
    return torch::cat(out);
  };
  auto reference = torch::cat({ref["prompt_logits"], ref["greedy_logits"].narrow(0, 1, S - 1)});
  // [prompt error, decode error]: the prompt's weights are expanded to bfloat16 on both paths (the
  // same numbers); decoding is where native keeps them exact.
  auto errors = [&](const CausalLM& m) {
    auto d = (run(m) - reference).abs();
    return std::pair{d.narrow(0, 0, P).max().item<double>(), d.narrow(0, P, S - 1).max().item<double>()};
  };
  auto native = load(WeightFormat::kNative, torch::kBFloat16);
  const auto err_native = errors(*native);
  native.reset();
  const auto err_float = errors(*load(WeightFormat::kFloat, torch::kBFloat16));
  INFO("max |native bf16 - float32|: prompt " << err_native.first << ", decode " << err_native.second
                                              << "; float bf16: " << err_float.first << ", " << err_float.second);
  CHECK(err_native.first <= err_float.first);
  CHECK(err_native.second <= err_float.second);
  CHECK(err_native.second < 2.0);  // bfloat16's own scale on logits of +-30
}

TEST_CASE("cat_rows meets parts of different forms in the widest, without loss", "[model][quantized]") {
  // A Q4_K_M layer: 4-bit q and k (a scale per 32) beside an 8-bit v with a scale per 16.
  auto q = random_groups(4, 32, 64, 21), k = random_groups(4, 16, 64, 22);
  auto v = random_groups(8, 16, 64, 23, true, 16);
  auto all = model::cat_rows({q, k, v});
  REQUIRE(all.has_value());
  CHECK(all->bits == 8);
  CHECK(all->group == 16);
  CHECK(torch::equal(all->dequantize(), torch::cat({q.dequantize(), k.dequantize(), v.dequantize()})));
  // ... and runs as one projection, within the float32 bound of the first test case (K = 64).
  auto x = torch::randn({3, 64}).to(torch::kDouble);
  auto w = torch::cat({exact_weight(q), exact_weight(k), exact_weight(v)});
  auto got = model::Projection::grouped(*all)(x.to(torch::kFloat32)).to(torch::kDouble);
  const double gamma = 65 * std::ldexp(1.0, -24) / (1 - 65 * std::ldexp(1.0, -24));
  CHECK(((got - torch::matmul(x, w.t())).abs() <= gamma * torch::matmul(x.abs(), w.abs().t())).all().item<bool>());
  // Different K cannot be stacked.
  CHECK_FALSE(model::cat_rows({q, random_groups(4, 16, 96, 24)}).has_value());
}
