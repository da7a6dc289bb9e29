// GGUF files of every supported GGUF architecture, written from tiny random checkpoints the way
// llama.cpp's converter writes them (tests/fixtures/make_tiny_gguf_decoders.py), against transformers
// running the checkpoints they came from.
#include "breadth/model.hpp"
#include "model_test_util.hpp"

using namespace breadth;
using breadth::test::max_abs_diff;
using breadth::test::read_tensors;
using breadth::test::to_ids;

namespace {

constexpr double kF32Tol = 1e-4;

std::string fixture(const std::string& name) {
  return breadth::test::fixtures_dir() + "/tiny_gguf_decoders/" + name;
}

}  // namespace

TEST_CASE("GGUF architectures match transformers (float32)", "[model][gguf]") {
  auto manifest = breadth::test::read_json(fixture("manifest.json"));
  REQUIRE(manifest.size() >= 10);
  std::set<std::string> archs;
  for (const auto& entry : manifest) {
    const std::string name = entry["name"];
    archs.insert(entry["gguf_arch"].get<std::string>());
    DYNAMIC_SECTION(name) {
      auto model = CausalLM::load(fixture(name + ".gguf"));
      auto ref = read_tensors(fixture(name + ".ref.safetensors"));
      CHECK(model->config().architecture == entry["architecture"].get<std::string>());
      REQUIRE(ref["single_logits"].std().item<double>() > 0.5);

      KvCache c1;
      ForwardOptions all;
      all.last_only = false;
      auto got = model->forward(c1, ref["single_ids"], {}, all).logits;
      CHECK(max_abs_diff(got[0], ref["single_logits"]) < kF32Tol);

      // Prefill + 20 cached decode steps on transformers' greedy tokens.
      KvCache cache;
      auto logits = model->prefill(cache, {to_ids(ref["decode_prompt"])});
      double worst = max_abs_diff(logits[0], ref["decode_logits"][0]);
      const int64_t steps = ref["decode_tokens"].size(0);
      int64_t agree = 0;
      for (int64_t s = 0; s < steps; ++s) {
        auto tok = ref["decode_tokens"].narrow(0, s, 1);
        agree += logits[0].argmax().item<int64_t>() == tok.item<int64_t>();
        logits = model->decode(cache, tok);
        worst = std::max(worst, max_abs_diff(logits[0], ref["decode_logits"][s + 1]));
      }
      CHECK(worst < kF32Tol);
      CHECK(agree == steps);
    }
  }
  CHECK(archs == std::set<std::string>{"llama", "qwen2", "qwen3", "gemma2", "gemma3", "olmo2", "phi3"});
}

TEST_CASE("quantized GGUF architectures: native weights compute what the expanded weights compute",
          "[model][gguf][quantized]") {
  // <name>.q.gguf: the same tiny model quantized by gguf-py (Q4_1 projections, Q5_0 attention and
  // Q5_1 MLP in the first layer, Q8_0 embedding/head), or for llama_kquants random Q2_K..Q6_K
  // blocks mixed as in a Q4_K_M file (its native logits are checked against its own float path).
  // weights = native keeps the blocks (a fraction of the float path's bytes) and makes each weight
  // exactly as expanding does, in float32 (model_quantized): its logits equal the float path's up
  // to float32 summation order, over a prompt (dequantized slices) and over decode steps (the
  // grouped kernel). This covers what the real SmolLM2 file cannot: q/k row un-permutation of
  // quantized rows (llama), biases (qwen2), fused qkv/gate_up (phi3), a scaled tied embedding (gemma).
  auto manifest = breadth::test::read_json(fixture("manifest.json"));
  for (const auto& entry : manifest) {
    const std::string name = entry["name"];
    DYNAMIC_SECTION(name) {
      auto load = [&](WeightFormat w) {
        ModelOptions o;
        o.weights = w;
        return CausalLM::load(fixture(name + ".q.gguf"), o);
      };
      auto ref = read_tensors(fixture(name + ".ref.safetensors"));
      const auto& ids = ref["single_ids"];
      const int64_t T = ids.size(1), P = T / 2;
      // Logits over the first half as a prompt, then the second half one token per step.
      auto logits = [&](const CausalLM& m) {
        KvCache c;
        ForwardOptions all;
        all.last_only = false;
        std::vector<torch::Tensor> out{m.forward(c, ids.narrow(1, 0, P), {}, all).logits[0]};
        for (int64_t t = P; t < T; ++t) out.push_back(m.decode(c, ids.select(1, t)));
        return torch::cat(out);
      };
      auto fl = load(WeightFormat::kFloat);
      auto native = load(WeightFormat::kNative);
      // The blocks stayed blocks. Native holds about the file's own tensor bytes, within the issue's
      // 1.2x: codes at the file's bits, float16 or two-level scales, the embedding rows left in the
      // file (observed 0.79-1.03x; 1.16x for llama_kquants, whose fused q/k/v and gate/up mix two
      // K types each and meet in the wider). Expanding any one layer to 32 bits passes 1.2x (the
      // float load is 4-6x).
      const double file_bytes = entry["q_tensor_bytes"].get<double>();
      INFO("native " << native->weight_bytes() << " B, float " << fl->weight_bytes() << " B, file tensors "
                     << file_bytes << " B");
      CHECK(static_cast<double>(native->weight_bytes()) < 1.2 * file_bytes);
      auto f32 = logits(*fl), nat = logits(*native);
      REQUIRE(f32.size(0) == T);
      INFO("max |native - float32| " << max_abs_diff(nat, f32) << " over logits of scale " << f32.abs().max().item<double>());
      CHECK(max_abs_diff(nat, f32) < kF32Tol);
    }
  }
}
