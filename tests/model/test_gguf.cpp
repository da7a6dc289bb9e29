// The real SmolLM2-135M-Instruct GGUF (Q4_1) against transformers loading the same file
// (tests/fixtures/make_smollm2_reference.py): same dequantized weights, same q/k un-permutation.

#include "breadth/chat_template.hpp"
#include "breadth/model.hpp"
#include "model_test_util.hpp"

using namespace breadth;
using breadth::test::max_abs_diff;
using breadth::test::read_tensors;
using breadth::test::to_ids;

namespace {

std::string gguf_path() { return breadth::test::models_dir() + "/smollm2-135m-instruct.gguf"; }

std::map<std::string, torch::Tensor> reference() {
  return read_tensors(breadth::test::fixtures_dir() + "/smollm2_reference/smollm2.ref.safetensors");
}

// Both sides hold bit-identical float32 weights (the Q4_1/Q8_0 blocks decode exactly); the logits
// differ only by float32 summation order through 30 layers. Logits here span about +-30, and float32
// carries 7 significant digits, so per-layer reassociation noise of ~1e-6 relative can compound to
// a few 1e-4 absolute at the output. (On the development machine the difference is exactly 0: both
// sides run the same MKL kernels in the same order.) 2e-3 admits other BLAS builds and CPUs and is
// still far below the gap between the top two logits that decides any greedy step in this test.
constexpr double kTol = 2e-3;

// Loading dequantizes 135M parameters; the float32 model is shared by the test cases. These tests
// check the float path (weights = float) against transformers; test_quantized checks the native
// path against this one.
std::shared_ptr<CausalLM> model_f32() {
  ModelOptions opt;
  opt.weights = WeightFormat::kFloat;
  static auto m = CausalLM::load(gguf_path(), opt);
  return m;
}

}  // namespace

TEST_CASE("SmolLM2 GGUF: hyper-parameters from the metadata", "[model][gguf]") {
  auto model = model_f32();
  const auto& c = model->config();
  CHECK(c.architecture == "LlamaForCausalLM");
  CHECK(c.family == "llama");
  CHECK(c.num_layers == 30);
  CHECK(c.hidden_size == 576);
  CHECK(c.intermediate_size == 1536);
  CHECK(c.num_heads == 9);
  CHECK(c.num_kv_heads == 3);
  CHECK(c.head_dim == 64);
  CHECK(c.vocab_size == 49152);
  CHECK(c.tie_embeddings);
  CHECK(c.rope_theta == Approx(100000.0));
  CHECK(c.rms_norm_eps == Approx(1e-5));
}

TEST_CASE("SmolLM2 GGUF: logits and greedy decoding equal transformers", "[model][gguf]") {
  auto model = model_f32();
  auto ref = reference();

  // Every position of the prompt, then 32 greedy steps with breadth's own argmax: the same token
  // ids, and the same logits on the way.
  breadth::test::check_greedy_against_reference(*model, ref, kTol);
}

TEST_CASE("SmolLM2 GGUF: a padded batch equals the prompts run alone", "[model][gguf]") {
  auto model = model_f32();
  auto ref = reference();
  KvCache cache;
  auto logits = model->prefill(cache, {to_ids(ref["prompt_ids"]), to_ids(ref["short_ids"])});
  CHECK(max_abs_diff(logits[0], ref["prompt_logits"][-1]) < kTol);
  CHECK(max_abs_diff(logits[1], ref["short_last_logits"]) < kTol);
}

TEST_CASE("SmolLM2 GGUF in bfloat16 keeps the greedy answer", "[model][gguf][bf16]") {
  // bfloat16 keeps 8 significant bits, so logits move by ~1% of their size; what must survive is
  // the decision: the prompt's top-1 token and the first greedy tokens (whose margins are large).
  ModelOptions opt;
  opt.dtype = torch::kBFloat16;
  opt.weights = WeightFormat::kFloat;
  auto model = CausalLM::load(gguf_path(), opt);
  auto ref = reference();
  KvCache cache;
  auto last = model->prefill(cache, {to_ids(ref["prompt_ids"])});
  double err = max_abs_diff(last[0], ref["greedy_logits"][0]);
  INFO("bfloat16 max abs error at the last prompt position: " << err);
  CHECK(err < 1.5);
  int64_t same = 0;
  for (int64_t s = 0; s < 8; ++s) {
    auto next = last.argmax(-1);
    same += next.item<int64_t>() == ref["greedy_ids"][s].item<int64_t>();
    last = model->decode(cache, ref["greedy_ids"].narrow(0, s, 1));
  }
  CHECK(same >= 7);
}

TEST_CASE("SmolLM2 GGUF: the embedded tokenizer and chat template reproduce the prompt ids",
          "[model][gguf][tokenizer]") {
  auto model = model_f32();
  auto tok = model->tokenizer();
  REQUIRE(tok != nullptr);
  REQUIRE(tok->chat_template() != nullptr);
  auto text = tok->chat_template()->render_user_turn("What is the capital of France?");
  CHECK(tok->encode(text, false) == to_ids(reference()["prompt_ids"]));
}
