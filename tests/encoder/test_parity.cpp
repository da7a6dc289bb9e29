// breadth's encoders against transformers on tiny random BERT, RoBERTa, DeBERTa v1 and v2 checkpoints
// (tests/fixtures/make_tiny_encoders.py writes them and transformers' outputs), from token ids and
// from text through the checkpoint's own tokenizer.
#include "breadth/encoder.hpp"
#include "encoder_test_util.hpp"

using namespace breadth;
using breadth::test::masked_diff;
using breadth::test::max_abs_diff;
using breadth::test::read_json_file;
using breadth::test::read_ref;
using breadth::test::tiny_encoder;

namespace {

// float32 on both sides; what remains is summation order.
constexpr double kF32Tol = 1e-4;

nlohmann::json manifest() { return read_json_file(tiny_encoder("manifest.json")); }

EncoderBatch ref_batch(std::map<std::string, torch::Tensor>& ref, const std::string& prefix = "") {
  return {ref[prefix + "ids"], ref[prefix + "mask"], ref[prefix + "type_ids"]};
}

// The options the fixture's text reference was made with.
EncoderOptions text_options(const nlohmann::json& entry) {
  EncoderOptions o;
  const auto& t = entry["text"];
  if (t.contains("max_length")) o.max_length = t["max_length"].get<int64_t>();
  if (t.value("truncation", "") == "each_side") {
    o.pair_truncation = PairTruncation::kEachSide;
    o.max_side_tokens = t["max_side"].get<int64_t>();
  }
  o.batch_size = 2;  // several length-sorted batches, put back in input order
  return o;
}

}  // namespace

TEST_CASE("encoders match transformers from token ids (float32, padded batch)", "[encoder][parity]") {
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    DYNAMIC_SECTION(name) {
      auto enc = Encoder::load(tiny_encoder(name));
      auto ref = read_ref(tiny_encoder(name + ".ref.safetensors"));
      const auto& cfg = enc->config();
      CHECK(cfg.architecture == entry["architecture"].get<std::string>());
      CHECK(cfg.hidden_size == entry["hidden_size"].get<int64_t>());
      CHECK(cfg.num_labels == entry["num_labels"].get<int64_t>());
      CHECK(cfg.labels == entry["labels"].get<std::vector<std::string>>());
      // The reference is not degenerate: hidden states differ between tokens.
      REQUIRE(ref["hidden"].std().item<double>() > 0.3);

      auto batch = ref_batch(ref);
      auto hidden = enc->hidden_states(batch);
      CHECK(masked_diff(hidden, ref["hidden"], ref["mask"]) < kF32Tol);
      // Each row alone, unpadded, gives what it gave inside the padded batch.
      for (int64_t b = 0; b < batch.ids.size(0); ++b) {
        const int64_t n = batch.mask[b].sum().item<int64_t>();
        EncoderBatch one{batch.ids[b].narrow(0, 0, n).unsqueeze(0), batch.mask[b].narrow(0, 0, n).unsqueeze(0),
                         batch.type_ids[b].narrow(0, 0, n).unsqueeze(0)};
        CHECK(max_abs_diff(enc->hidden_states(one)[0], ref["hidden"][b].narrow(0, 0, n)) < kF32Tol);
      }
      if (entry["classifier"].get<bool>()) {
        REQUIRE(ref["logits"].std().item<double>() > 0.1);
        CHECK(max_abs_diff(enc->logits(batch), ref["logits"]) < kF32Tol);
      }
    }
  }
}

TEST_CASE("encoders in bfloat16 stay as close to float32 as transformers' own bfloat16 run", "[encoder][parity]") {
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    DYNAMIC_SECTION(name) {
      EncoderOptions o;
      o.dtype = torch::kBFloat16;
      auto enc = Encoder::load(tiny_encoder(name), o);
      auto ref = read_ref(tiny_encoder(name + ".ref.safetensors"));
      auto hidden = enc->hidden_states(ref_batch(ref));
      CHECK(hidden.scalar_type() == torch::kFloat32);
      const double hf_err = masked_diff(ref["hidden_bf16"], ref["hidden"], ref["mask"]);
      const double our_err = masked_diff(hidden, ref["hidden"], ref["mask"]);
      INFO("transformers bf16 error " << hf_err << ", breadth bf16 error " << our_err);
      CHECK(our_err < 2 * hf_err + 0.05);
      if (entry["classifier"].get<bool>()) {
        const double hf_l = max_abs_diff(ref["logits_bf16"], ref["logits"]);
        const double our_l = max_abs_diff(enc->logits(ref_batch(ref)), ref["logits"]);
        INFO("logits: transformers bf16 error " << hf_l << ", breadth " << our_l);
        CHECK(our_l < 2 * hf_l + 0.05);
      }
    }
  }
}

TEST_CASE("text inputs: tokenization, truncation and outputs equal the reference", "[encoder][parity][text]") {
  auto texts = read_json_file(tiny_encoder("texts.json"));
  const auto a = texts["a"].get<std::vector<std::string>>();
  const auto b = texts["b"].get<std::vector<std::string>>();
  std::vector<std::string> singles = a;
  singles.insert(singles.end(), b.begin(), b.end());
  for (const auto& entry : manifest()) {
    const std::string name = entry["name"];
    DYNAMIC_SECTION(name) {
      auto enc = Encoder::load(tiny_encoder(name), text_options(entry));
      auto ref = read_ref(tiny_encoder(name + ".ref.safetensors"));
      const bool pairs = entry["text"]["mode"] == "pairs";
      auto got = pairs ? enc->tokenize(a, b) : enc->tokenize(singles);
      // Token ids, mask and type ids exactly as the reference tokenizer frames them.
      REQUIRE(got.ids.sizes() == ref["text_ids"].sizes());
      CHECK(torch::equal(got.ids, ref["text_ids"]));
      CHECK(torch::equal(got.mask, ref["text_mask"]));
      CHECK(torch::equal(got.type_ids, ref["text_types"]));
      // Truncation was exercised where the reference truncates: some row is at the limit.
      if (entry["text"].contains("max_length"))
        CHECK(got.mask.sum(1).max().item<int64_t>() == entry["text"]["max_length"].get<int64_t>());
      if (pairs && entry["text"].value("max_side", int64_t{0}) == 8)
        CHECK(got.mask.sum(1).max().item<int64_t>() == 2 * 8 + 3);
      if (pairs) {
        auto probs = enc->classify_pairs(a, b);
        CHECK(max_abs_diff(probs, ref["text_probs"]) < kF32Tol);
        CHECK(max_abs_diff(probs.sum(1), torch::ones({probs.size(0)})) < 1e-5);
      } else {
        CHECK(masked_diff(enc->hidden_states(got), ref["text_hidden"], ref["text_mask"]) < kF32Tol);
      }
      if (entry.contains("st")) {
        // sentence-transformers' encode() on the same directory: pooling and Normalize from its files.
        CHECK(enc->config().pooling == entry["st"].get<std::string>());
        CHECK(enc->config().normalize);
        CHECK(enc->config().embedding_size == entry["embedding_size"].get<int64_t>());
        auto emb = enc->embed(singles);
        CHECK(emb.size(1) == entry["embedding_size"].get<int64_t>());
        CHECK(max_abs_diff(emb, ref["st_embeddings"]) < 1e-5);
        CHECK(max_abs_diff(emb.norm(2, 1), torch::ones({emb.size(0)})) < 1e-5);
      }
    }
  }
}

TEST_CASE("pair classifiers for evaluation pick the right label", "[encoder][judges]") {
  auto texts = read_json_file(tiny_encoder("texts.json"));
  const auto a = texts["a"].get<std::vector<std::string>>();
  const auto b = texts["b"].get<std::vector<std::string>>();
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < a.size(); ++i) pairs.emplace_back(a[i], b[i]);
  auto manifest_entry = [](const std::string& name) {
    for (const auto& e : manifest())
      if (e["name"] == name) return e;
    FAIL("no fixture " << name);
    return nlohmann::json();
  };

  SECTION("NLI: RoBERTa with ENTAILMENT at index 2") {
    auto e = manifest_entry("roberta_nli");
    auto enc = Encoder::load(tiny_encoder("roberta_nli"), text_options(e));
    REQUIRE(enc->label_index("entailment") == 2);
    auto ref = read_ref(tiny_encoder("roberta_nli.ref.safetensors"));
    auto p = make_nli_classifier(enc)->probabilities(pairs);
    REQUIRE(p.size() == pairs.size());
    for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(ref["text_probs"][i][2].item<double>()).margin(1e-5));
    // Entailment decisions are the argmax.
    auto ent = nli_entails(*enc, pairs);
    auto top = ref["text_probs"].argmax(1);
    for (size_t i = 0; i < ent.size(); ++i) CHECK(ent[i] == (top[i].item<int64_t>() == 2));
  }
  SECTION("NLI: DeBERTa with entailment at index 0") {
    auto e = manifest_entry("deberta_p2c_conv_nli");
    auto enc = Encoder::load(tiny_encoder("deberta_p2c_conv_nli"), text_options(e));
    auto ref = read_ref(tiny_encoder("deberta_p2c_conv_nli.ref.safetensors"));
    auto p = make_nli_classifier(enc)->probabilities(pairs);
    for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(ref["text_probs"][i][0].item<double>()).margin(1e-5));
  }
  SECTION("NLI: DeBERTa v1 shaped like deberta-large-mnli, ENTAILMENT at index 2") {
    auto e = manifest_entry("deberta_v1_mnli");
    auto enc = Encoder::load(tiny_encoder("deberta_v1_mnli"), text_options(e));
    CHECK(enc->config().family == "deberta");
    REQUIRE(enc->label_index("entailment") == 2);
    auto ref = read_ref(tiny_encoder("deberta_v1_mnli.ref.safetensors"));
    auto p = make_nli_classifier(enc)->probabilities(pairs);
    REQUIRE(p.size() == pairs.size());
    for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(ref["text_probs"][i][2].item<double>()).margin(1e-5));
    auto ent = nli_entails(*enc, pairs);
    auto top = ref["text_probs"].argmax(1);
    for (size_t i = 0; i < ent.size(); ++i) CHECK(ent[i] == (top[i].item<int64_t>() == 2));
  }
  SECTION("NoveltyBench-style equivalence classifier: P(label 1), each side truncated on its own") {
    auto e = manifest_entry("deberta_v3_cls");
    auto enc = Encoder::load(tiny_encoder("deberta_v3_cls"), text_options(e));
    auto ref = read_ref(tiny_encoder("deberta_v3_cls.ref.safetensors"));
    auto p = make_pair_classifier(enc)->probabilities(pairs);
    for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx(ref["text_probs"][i][1].item<double>()).margin(1e-5));
    // Without labels to go by, a three-label head needs an explicit index.
    auto bert3 = Encoder::load(tiny_encoder("bert_cls_gelu_new"));
    CHECK_THROWS_AS(make_pair_classifier(bert3), InvalidArgument);
    CHECK_THROWS_AS(make_nli_classifier(bert3), InvalidArgument);
    CHECK(make_pair_classifier(bert3, 2) != nullptr);
  }
}

TEST_CASE("an embedder with no texts returns an empty matrix", "[encoder]") {
  auto enc = Encoder::load(tiny_encoder("bert_st"));
  auto e = enc->embed({});
  CHECK(e.size(0) == 0);
  CHECK(e.size(1) == 32);
  CHECK(make_text_embedder(enc)->embed({"one text"}).sizes() == torch::IntArrayRef({1, 32}));
}

TEST_CASE("a Qwen2-based embedder serves as evaluation's TextEmbedder", "[encoder][judges]") {
  auto texts = read_json_file(tiny_encoder("texts.json"));
  auto singles = texts["a"].get<std::vector<std::string>>();
  const auto b = texts["b"].get<std::vector<std::string>>();
  singles.insert(singles.end(), b.begin(), b.end());
  auto ref = read_ref(tiny_encoder("qwen2_embedder_dense.ref.safetensors"));
  EncoderOptions o;
  o.max_length = 24;  // the fixture's sentence-transformers max_seq_length, given explicitly
  auto embedder = make_text_embedder(Encoder::load(tiny_encoder("qwen2_embedder_dense"), o));
  auto emb = embedder->embed(singles);
  REQUIRE(emb.sizes() == ref["st_embeddings"].sizes());
  CHECK(max_abs_diff(emb, ref["st_embeddings"]) < 1e-5);
}
