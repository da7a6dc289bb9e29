// breadth's decoders against transformers on tiny random checkpoints of every supported family
// (tests/fixtures/make_tiny_decoders.py writes the checkpoints and transformers' outputs).
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "model/arch.hpp"
#include "model/ops.hpp"
#include "model_test_util.hpp"

using namespace breadth;
using breadth::test::max_abs_diff;
using breadth::test::read_tensors;
using breadth::test::to_ids;

namespace {

// float32 on both sides; what remains is summation order (fused projections, SDPA kernels).
constexpr double kF32Tol = 1e-4;

std::string fixture(const std::string& name) {
  return breadth::test::fixtures_dir() + "/tiny_decoders/" + name;
}

nlohmann::json manifest() { return breadth::test::read_json(fixture("manifest.json")); }

torch::Tensor no_grad_forward(const CausalLM& m, KvCache& c, const torch::Tensor& ids,
                              const torch::Tensor& valid, bool last_only) {
  ForwardOptions o;
  o.last_only = last_only;
  o.check_finite = true;
  return m.forward(c, ids, valid, o).logits;
}

}  // namespace

TEST_CASE("causal LMs match transformers (float32)", "[model][parity]") {
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    if (entry["classifier"].get<bool>()) continue;
    DYNAMIC_SECTION(name) {
      auto model = CausalLM::load(fixture(name));
      auto ref = read_tensors(fixture(name + ".ref.safetensors"));
      const auto& cfg = model->config();
      CHECK(cfg.architecture == entry["architecture"].get<std::string>());
      CHECK(cfg.vocab_size == ref["single_logits"].size(1));
      // The reference is not degenerate: logits spread, so a broken model cannot match by accident.
      REQUIRE(ref["single_logits"].std().item<double>() > 0.5);

      // One prompt, logits at every position.
      {
        KvCache cache;
        auto got = no_grad_forward(*model, cache, ref["single_ids"], {}, false);
        CHECK(max_abs_diff(got[0], ref["single_logits"]) < kF32Tol);
        CHECK(cache.columns() == ref["single_ids"].size(1));
        CHECK(cache.lengths()[0].item<int64_t>() == ref["single_ids"].size(1));
      }

      // A left-padded batch of different lengths, compared at the real tokens.
      {
        KvCache cache;
        auto valid = ref["batch_valid"].to(torch::kBool);
        auto got = no_grad_forward(*model, cache, ref["batch_ids"], valid, false);
        auto m = valid.unsqueeze(-1).expand_as(got);
        CHECK(max_abs_diff(got.masked_select(m), ref["batch_logits"].masked_select(m)) < kF32Tol);
        // prefill() pads the same prompts itself and returns each row's last position.
        std::vector<std::vector<int32_t>> prompts;
        for (int64_t b = 0; b < valid.size(0); ++b)
          prompts.push_back(to_ids(ref["batch_ids"][b].masked_select(valid[b])));
        KvCache c2;
        auto last = model->prefill(c2, prompts);
        auto T = ref["batch_ids"].size(1);
        CHECK(max_abs_diff(last, ref["batch_logits"].select(1, T - 1)) < kF32Tol);
      }

      // Right padding: the same prompts with padding after them; the last real token is in a
      // different column per row.
      {
        auto valid_l = ref["batch_valid"].to(torch::kBool);
        const int64_t B = valid_l.size(0), T = valid_l.size(1);
        auto ids = torch::zeros({B, T}, torch::kInt64);
        auto valid = torch::zeros({B, T}, torch::kBool);
        for (int64_t b = 0; b < B; ++b) {
          auto row = ref["batch_ids"][b].masked_select(valid_l[b]);
          ids[b].narrow(0, 0, row.size(0)).copy_(row);
          valid[b].narrow(0, 0, row.size(0)).fill_(true);
        }
        KvCache cache;
        auto got = no_grad_forward(*model, cache, ids, valid, true);
        CHECK(max_abs_diff(got, ref["batch_logits"].select(1, T - 1)) < kF32Tol);
        CHECK(torch::equal(cache.lengths(), valid_l.sum(1)));
      }

      // A prompt beyond the rope's original context (dynamic / longrope / yarn configs), run by
      // transformers on a fresh model.
      if (ref.count("long_ids")) {
        KvCache cache;
        auto got = no_grad_forward(*model, cache, ref["long_ids"], {}, false);
        CHECK(max_abs_diff(got[0], ref["long_logits"]) < kF32Tol);
      }

      // Prefill, then 20 steps of cached decoding (feeding transformers' greedy tokens).
      const auto steps = ref["decode_tokens"].size(0);
      auto prompt = to_ids(ref["decode_prompt"]);
      {
        KvCache cache;
        auto logits = model->prefill(cache, {prompt});
        double worst = max_abs_diff(logits[0], ref["decode_logits"][0]);
        int64_t agree = 0;
        for (int64_t s = 0; s < steps; ++s) {
          auto tok = ref["decode_tokens"].narrow(0, s, 1);
          agree += logits[0].argmax().item<int64_t>() == tok.item<int64_t>();
          logits = model->decode(cache, tok);
          worst = std::max(worst, max_abs_diff(logits[0], ref["decode_logits"][s + 1]));
        }
        CHECK(worst < kF32Tol);
        CHECK(agree == steps);  // breadth's own greedy choice is transformers'
        CHECK(cache.columns() == static_cast<int64_t>(prompt.size()) + steps);
      }

      // Chunked catch-up: several tokens appended at once to a non-empty cache equal decoding
      // them one by one.
      {
        KvCache cache;
        model->prefill(cache, {prompt});
        const int64_t chunk = 7;
        auto got = no_grad_forward(*model, cache, ref["decode_tokens"].narrow(0, 0, chunk).unsqueeze(0),
                                   {}, false);
        CHECK(max_abs_diff(got[0], ref["decode_logits"].narrow(0, 1, chunk)) < kF32Tol);
        auto rest = model->decode(cache, ref["decode_tokens"].narrow(0, chunk, 1));
        CHECK(max_abs_diff(rest[0], ref["decode_logits"][chunk + 1]) < kF32Tol);
      }

      // Fork: one prompt prefilled once, select()ed into three rows, decoded on; equals the
      // reference computed without forking.
      {
        KvCache cache;
        auto other = to_ids(ref["single_ids"]);
        model->prefill(cache, {other, prompt});
        auto forked = cache.select(torch::tensor({1, 1, 0, 1}, torch::kInt64));
        CHECK(forked.batch() == 4);
        auto tok0 = ref["decode_tokens"][0].item<int64_t>();
        auto next = torch::full({4}, tok0, torch::kInt64);
        auto logits = model->decode(forked, next);
        for (int64_t r : {0, 1, 3})
          CHECK(max_abs_diff(logits[r], ref["decode_logits"][1]) < kF32Tol);
        // The source cache is untouched by the fork's decoding.
        CHECK(cache.columns() == static_cast<int64_t>(std::max(other.size(), prompt.size())));
      }
    }
  }
}

TEST_CASE("bfloat16 stays within transformers' own bfloat16 error", "[model][parity][bf16]") {
  // Both runs round every activation to 8 significant bits; neither is "right". breadth passes when
  // its distance from the float32 reference is of the same size as transformers' (at most 2x +
  // 0.05: op order, fused projections and different kernels move individual roundings), and its
  // top-1 token agrees with float32 at the large majority of positions.
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    if (entry["classifier"].get<bool>()) continue;
    DYNAMIC_SECTION(name) {
      ModelOptions opt;
      opt.dtype = torch::kBFloat16;
      auto model = CausalLM::load(fixture(name), opt);
      CHECK(model->dtype() == torch::kBFloat16);
      auto ref = read_tensors(fixture(name + ".ref.safetensors"));
      KvCache cache;
      auto got = no_grad_forward(*model, cache, ref["single_ids"], {}, false)[0];
      CHECK(got.scalar_type() == torch::kFloat32);
      double ours = max_abs_diff(got, ref["single_logits"]);
      double theirs = max_abs_diff(ref["single_logits_bf16"], ref["single_logits"]);
      INFO("breadth bf16 error " << ours << ", transformers bf16 error " << theirs);
      CHECK(ours <= 2 * theirs + 0.05);
      auto agree = (got.argmax(-1) == ref["single_logits"].argmax(-1)).to(torch::kFloat32).mean();
      CHECK(agree.item<double>() >= 0.8);

      // Cached decoding (on the CPU a bfloat16 model keeps bfloat16-rounded keys and values in a
      // float32 cache) lands as close to transformers' float32 decode, step by step.
      auto prompt = to_ids(ref["decode_prompt"]);
      KvCache dc;
      auto logits = model->prefill(dc, {prompt});
      const auto steps = ref["decode_tokens"].size(0);
      double worst = max_abs_diff(logits[0], ref["decode_logits"][0]);
      int64_t same_top1 = 0;
      for (int64_t s = 0; s < steps; ++s) {
        auto tok = ref["decode_tokens"].narrow(0, s, 1);
        logits = model->decode(dc, tok);
        worst = std::max(worst, max_abs_diff(logits[0], ref["decode_logits"][s + 1]));
        same_top1 += logits[0].argmax().item<int64_t>() == ref["decode_logits"][s + 1].argmax().item<int64_t>();
      }
      INFO("breadth bf16 decode error " << worst << ", transformers bf16 prefill error " << theirs);
      CHECK(worst <= 2 * theirs + 0.05);
      CHECK(same_top1 >= (8 * steps) / 10);
    }
  }
}

TEST_CASE("sequence classifiers score the last real token like transformers", "[model][parity]") {
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    if (!entry["classifier"].get<bool>()) continue;
    DYNAMIC_SECTION(name) {
      auto model = CausalLM::load(fixture(name));
      auto ref = read_tensors(fixture(name + ".ref.safetensors"));
      CHECK(model->config().num_labels == entry["num_labels"].get<int64_t>());
      REQUIRE(ref["batch_scores"].std().item<double>() > 0.1);
      auto single = model->score({to_ids(ref["single_ids"])});
      CHECK(max_abs_diff(single, ref["single_scores"]) < kF32Tol);
      auto valid = ref["batch_valid"].to(torch::kBool);
      std::vector<std::vector<int32_t>> seqs;
      for (int64_t b = 0; b < valid.size(0); ++b)
        seqs.push_back(to_ids(ref["batch_ids"][b].masked_select(valid[b])));
      CHECK(max_abs_diff(model->score(seqs), ref["batch_scores"]) < kF32Tol);
      // forward() with the caller's own padding gives the same scores.
      KvCache cache;
      auto out = model->forward(cache, ref["batch_ids"], valid);
      CHECK(max_abs_diff(out.logits, ref["batch_scores"]) < kF32Tol);
    }
  }
}

TEST_CASE("hidden states are the final-norm states under the head", "[model]") {
  auto model = CausalLM::load(fixture("llama_gqa"));
  auto ref = read_tensors(fixture("llama_gqa.ref.safetensors"));
  ForwardOptions o;
  o.want_hidden = true;
  o.last_only = false;
  KvCache cache;
  auto out = model->forward(cache, ref["single_ids"], {}, o);
  REQUIRE(out.hidden.defined());
  CHECK(out.hidden.sizes() == torch::IntArrayRef({1, ref["single_ids"].size(1), model->config().hidden_size}));
  // Untied head: logits = hidden @ lm_head^T, with lm_head read independently from the checkpoint.
  auto w = read_tensors(fixture("llama_gqa/model.safetensors"))["lm_head.weight"];
  CHECK(max_abs_diff(torch::matmul(out.hidden[0], w.t()), ref["single_logits"]) < kF32Tol);
  // last_only picks each row's last position.
  KvCache c2;
  ForwardOptions last;
  last.want_hidden = true;
  auto out2 = model->forward(c2, ref["single_ids"], {}, last);
  CHECK(max_abs_diff(out2.hidden[0], out.hidden[0][-1]) < 1e-5);
}

TEST_CASE("sharded and single-file checkpoints load the same weights", "[model]") {
  auto sharded = CausalLM::load(fixture("llama_sharded"));
  CHECK(sharded->config().num_layers == 2);
  auto ref = read_tensors(fixture("llama_sharded.ref.safetensors"));
  KvCache cache;
  auto got = sharded->forward(cache, ref["single_ids"], {}, ForwardOptions{false, false, false}).logits;
  CHECK(max_abs_diff(got[0], ref["single_logits"]) < kF32Tol);
}

TEST_CASE("a cache grows past its capacity without changing results", "[model]") {
  auto model = CausalLM::load(fixture("llama_gqa"));
  auto ref = read_tensors(fixture("llama_gqa.ref.safetensors"));
  auto prompt = to_ids(ref["decode_prompt"]);
  KvCache cache = model->new_cache(1, 2);  // far too small: must grow during prefill and decode
  auto logits = model->prefill(cache, {prompt});
  for (int64_t s = 0; s < ref["decode_tokens"].size(0); ++s)
    logits = model->decode(cache, ref["decode_tokens"].narrow(0, s, 1));
  CHECK(cache.capacity() >= cache.columns());
  CHECK(max_abs_diff(logits[0], ref["decode_logits"][-1]) < kF32Tol);
}

TEST_CASE("a multimodal Gemma-3 runs its text tower and refuses image placeholders", "[model][parity]") {
  auto model = CausalLM::load(fixture("gemma3_multimodal"));
  CHECK(model->config().family == "gemma3");
  const int64_t image = model->config().vocab_size - 1;  // image_token_index of the fixture
  KvCache cache;
  auto ids = torch::tensor(std::vector<int64_t>{5, 6, image}).reshape({1, 3});
  try {
    model->forward(cache, ids);
    FAIL("an image placeholder was accepted");
  } catch (const InvalidArgument& e) {
    CHECK_THAT(e.what(), Catch::Matchers::Contains(std::to_string(image)));
    CHECK_THAT(e.what(), Catch::Matchers::Contains("image"));
  }
  CHECK(cache.columns() == 0);
}

TEST_CASE("Hub configs that give only non-default fields parse as transformers reads them",
          "[model][config]") {
  auto expected = breadth::test::read_json(fixture("sparse_configs.json"));
  REQUIRE(!expected.empty());
  for (const auto& [name, e] : expected.items()) {
    DYNAMIC_SECTION(name) {
      const std::string path = fixture(name + ".config.json");
      auto a = model::parse_hf_config(breadth::test::read_json(path), path);
      const auto& p = a.pub;
      CHECK(p.vocab_size == e["vocab_size"].get<int64_t>());
      CHECK(p.hidden_size == e["hidden_size"].get<int64_t>());
      CHECK(p.intermediate_size == e["intermediate_size"].get<int64_t>());
      CHECK(p.num_layers == e["num_layers"].get<int64_t>());
      CHECK(p.num_heads == e["num_heads"].get<int64_t>());
      CHECK(p.num_kv_heads == e["num_kv_heads"].get<int64_t>());
      CHECK(p.head_dim == e["head_dim"].get<int64_t>());
      CHECK(p.max_position == e["max_position"].get<int64_t>());
      CHECK(p.rms_norm_eps == e["rms_norm_eps"].get<double>());
      CHECK(p.tie_embeddings == e["tie_embeddings"].get<bool>());
      CHECK(a.attn_scale == Approx(e["attn_scale"].get<double>()).epsilon(1e-12));
      CHECK(a.sliding_window == e["sliding_window"].get<int64_t>());
      CHECK(a.layer_sliding == e["layer_sliding"].get<std::vector<bool>>());
      CHECK(a.rope.type == e["rope_type"].get<std::string>());
      CHECK(a.rope.theta == e["rope_theta"].get<double>());
      CHECK(a.rope.factor == e["rope_factor"].get<double>());
      CHECK(a.rope_local.type == e["local_rope_type"].get<std::string>());
      CHECK(a.rope_local.theta == e["local_rope_theta"].get<double>());
      CHECK(e["activation"].get<std::string>() == "gelu_pytorch_tanh");
      CHECK(a.activation == model::Activation::kGeluTanh);
      CHECK(a.text_tower);
    }
  }
}

TEST_CASE("rotary frequencies equal transformers' bit for bit", "[model][rope]") {
  int checked = 0;
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    auto ref = read_tensors(fixture(name + ".ref.safetensors"));
    if (!ref.count("rope_inv_freq")) continue;
    DYNAMIC_SECTION(name) {
      const std::string path = fixture(name + "/config.json");
      auto a = model::parse_hf_config(breadth::test::read_json(path), path);
      auto got = model::rope_inv_freq(a.rope, a.pub.head_dim, torch::kCPU);
      REQUIRE(got.sizes() == ref["rope_inv_freq"].sizes());
      CHECK(torch::equal(got, ref["rope_inv_freq"]));
      CHECK(a.rope.attention_factor == ref["rope_attention_scaling"][0].item<double>());
      if (ref.count("rope_inv_freq_at_40")) {
        CHECK(a.rope.length_dependent());
        CHECK(torch::equal(model::rope_inv_freq(a.rope, a.pub.head_dim, torch::kCPU, 40), ref["rope_inv_freq_at_40"]));
      }
    }
    ++checked;
  }
  CHECK(checked >= 12);  // every single-rope decoder, the yarn/dynamic/longrope ones among them
}
