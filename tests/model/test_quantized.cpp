// Quantized weights kept quantized (ModelOptions::weights = native): the grouped projection against
// dequantize-then-multiply in float64 with the float32 bound, for a few rows (the decode kernel)
// and many (a prompt: dequantized slices and a GEMM), and the real SmolLM2-135M-Instruct GGUF (Q4_1
// blocks, a Q8_0 tied embedding) against transformers, which expands the same file to float32.
#include <cmath>
#include <random>

#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "model/projection.hpp"
#include "grouped_test_util.hpp"
#include "model_test_util.hpp"

using namespace breadth;
using breadth::test::max_abs_diff;
using breadth::test::read_tensors;
using breadth::test::to_ids;
using breadth::test::exact_weight;
using breadth::test::random_groups;
using breadth::test::Scales;
using breadth::test::grouped_forms;

namespace {

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
  // Every form a GGUF's blocks take, both routes (decode kernel and dequantized slices), float32
  // and bfloat16 activations: breadth::test::check_grouped_projection (the bound is derived there).
  for (const auto& form : grouped_forms()) breadth::test::check_grouped_projection(form, torch::kCPU);
  // Memory, bits a weight: codes (4 bits as nibbles, 6 as a nibble and two bit planes), and a
  // float16 scale and offset per 32 (1 bit), float32 ones (2 bits), or two levels: a byte per
  // group for the scale and one for the offset unless it is shared, and two floats per 256.
  auto bytes = [](int bits, Scales s, int64_t group) {
    return model::Projection::grouped(random_groups(bits, 64, 256, 3, s, group)).weight_bytes();
  };
  CHECK(bytes(4, Scales::kHalf, 32) == 64 * 256 / 2 + 2 * 2 * 64 * 8);
  CHECK(bytes(4, Scales::kFloat, 32) == 64 * 256 / 2 + 2 * 4 * 64 * 8);
  CHECK(bytes(4, Scales::kFactored, 32) == 64 * 256 / 2 + 2 * 64 * 8 + 2 * 4 * 64);        // Q4_K: 4.75 bits
  CHECK(bytes(6, Scales::kFactoredShared, 16) == 64 * 256 * 6 / 8 + 64 * 16 + 2 * 4 * 64);  // Q6_K: 6.75 bits
  CHECK(bytes(2, Scales::kFactored, 16) == 64 * 256 / 4 + 2 * 64 * 16 + 2 * 4 * 64);        // Q2_K: 3.25 bits
  // Inputs that are not whole chunks of 32, 7-bit codes and groups of 64 are refused.
  auto odd = random_groups(4, 16, 64, 1);
  odd.q = odd.q.narrow(1, 0, 48);
  CHECK_THROWS_AS(model::Projection::grouped(odd), InvalidArgument);
  auto seven = random_groups(4, 16, 64, 1);
  seven.bits = 7;
  CHECK_THROWS_AS(model::Projection::grouped(seven), InvalidArgument);
  auto wide = random_groups(4, 16, 64, 1);
  wide.group = 64;
  wide.scale = wide.scale.narrow(1, 0, 1);
  wide.offset = wide.offset.narrow(1, 0, 1);
  CHECK_THROWS_AS(model::Projection::grouped(wide), InvalidArgument);
#ifndef BREADTH_WITH_CUDA
  // A GPU needs a CUDA build (test_quantized_gpu.cpp runs there).
  CHECK_THROWS_AS(model::Projection::grouped(random_groups(4, 16, 64, 1), {}, torch::Device("cuda:0")), Unsupported);
#endif
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
  // The deviation over the prompt and over the decode steps, as a root mean square over every logit
  // (the claim is about the rounding of all of them; a single logit's maximum follows one rounding
  // that either path may happen to hit, which moved with the order of rms_norm's float32 sum), and
  // the decode steps' largest. The prompt's weights are expanded to bfloat16 on both paths (the same
  // numbers); decoding is where native keeps them exact.
  struct Errors {
    double prompt_rms, decode_rms, decode_max;
  };
  auto errors = [&](const CausalLM& m) {
    auto d = (run(m) - reference).abs();
    auto rms = [](const torch::Tensor& t) { return t.pow(2).mean().sqrt().item<double>(); };
    return Errors{rms(d.narrow(0, 0, P)), rms(d.narrow(0, P, S - 1)), d.narrow(0, P, S - 1).max().item<double>()};
  };
  auto native = load(WeightFormat::kNative, torch::kBFloat16);
  const auto err_native = errors(*native);
  native.reset();
  const auto err_float = errors(*load(WeightFormat::kFloat, torch::kBFloat16));
  INFO("rms |bf16 - float32| native: prompt " << err_native.prompt_rms << ", decode " << err_native.decode_rms
                                              << "; float: " << err_float.prompt_rms << ", " << err_float.decode_rms
                                              << "; max over decode, native " << err_native.decode_max);
  CHECK(err_native.prompt_rms <= err_float.prompt_rms);
  CHECK(err_native.decode_rms < err_float.decode_rms);
  CHECK(err_native.decode_max < 2.0);  // bfloat16's own scale on logits of +-30
}

TEST_CASE("cat_rows meets parts of different forms in the widest, without loss", "[model][quantized]") {
  // A Q4_K_M layer: Q4_K q and k (4 bits, a scale per 32) beside a Q6_K v (6 bits, a scale per 16,
  // offsets sharing the scales' bytes): one 6-bit form with groups of 16 and two-level scales.
  auto q = random_groups(4, 32, 256, 21, Scales::kFactored), k = random_groups(4, 16, 256, 22, Scales::kFactored);
  auto v = random_groups(6, 16, 256, 23, Scales::kFactoredShared, 16);
  auto all = model::cat_rows({q, k, v});
  REQUIRE(all.has_value());
  CHECK(all->bits == 6);
  CHECK(all->group == 16);
  CHECK(all->factored());
  CHECK(all->sub_offset.defined());
  CHECK(torch::equal(all->dequantize(), torch::cat({q.dequantize(), k.dequantize(), v.dequantize()})));
  // ... whose two levels give the same scales and offsets ...
  CHECK(torch::equal(all->super_scale.repeat_interleave(16, 1) * all->sub_scale.to(torch::kFloat32), all->scale));
  CHECK(torch::equal(all->super_offset.repeat_interleave(16, 1) * all->sub_offset.to(torch::kFloat32), all->offset));
  // ... and runs as one projection, within the float32 bound of the first test case (K = 256), at
  // about the bytes of the parts (6 bits a weight and a byte per 16 for scale and offset).
  auto x = torch::randn({3, 256}).to(torch::kDouble);
  auto w = torch::cat({exact_weight(q), exact_weight(k), exact_weight(v)});
  const auto p = model::Projection::grouped(*all);
  CHECK(p.weight_bytes() == 64 * 256 * 6 / 8 + 2 * 64 * 16 + 2 * 4 * 64);
  auto got = p(x.to(torch::kFloat32)).to(torch::kDouble);
  const double gamma = 257 * std::ldexp(1.0, -24) / (1 - 257 * std::ldexp(1.0, -24));
  CHECK(((got - torch::matmul(x, w.t())).abs() <= gamma * torch::matmul(x.abs(), w.abs().t())).all().item<bool>());
  // A part without two levels (Q8_0's half scales) makes the whole 8 bits with plain scales.
  auto mixed = model::cat_rows({q, random_groups(8, 16, 256, 25)});
  REQUIRE(mixed.has_value());
  CHECK(mixed->bits == 8);
  CHECK_FALSE(mixed->factored());
  CHECK(torch::equal(mixed->dequantize(), torch::cat({q.dequantize(), random_groups(8, 16, 256, 25).dequantize()})));
  // Different K cannot be stacked.
  CHECK_FALSE(model::cat_rows({q, random_groups(4, 16, 96, 24)}).has_value());
}
