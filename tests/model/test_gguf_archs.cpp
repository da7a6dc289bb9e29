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
