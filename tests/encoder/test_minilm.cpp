// The real all-MiniLM-L6-v2 on real NoveltyBench generations against sentence-transformers
// (make_minilm_reference.py), and embedding-equivalence partitions against a Python greedy partition
// over sentence-transformers' embeddings (tests/spec checks the same through the spec string).
#include "breadth/divcov.hpp"
#include "breadth/encoder.hpp"
#include "encoder_test_util.hpp"

using namespace breadth;
using breadth::test::read_json_file;

namespace {

std::string minilm_dir() { return breadth::test::models_dir() + "/all-minilm-l6-v2"; }

const nlohmann::json& reference() {
  static const nlohmann::json j =
      read_json_file(breadth::test::fixtures_dir() + "/minilm_reference/minilm.json");
  return j;
}

std::shared_ptr<Encoder> minilm() {
  static std::shared_ptr<Encoder> e = Encoder::load(minilm_dir());
  return e;
}

torch::Tensor ref_embeddings() {
  const auto& rows = reference()["embeddings"];
  auto t = torch::empty({static_cast<int64_t>(rows.size()), 384}, torch::kFloat32);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t k = 0; k < 384; ++k) t[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = rows[i][k].get<float>();
  return t;
}

}  // namespace

TEST_CASE("MiniLM embeddings of real text equal sentence-transformers'", "[encoder][minilm]") {
  auto enc = minilm();
  const auto& cfg = enc->config();
  CHECK(cfg.architecture == "BertModel");
  CHECK(cfg.pooling == "mean");
  CHECK(cfg.normalize);
  CHECK(cfg.max_length == reference()["max_seq_length"].get<int64_t>());
  const auto texts = reference()["texts"].get<std::vector<std::string>>();
  // Some generations are longer than max_seq_length: truncation is exercised.
  int64_t longest = 0;
  for (const auto& t : texts) longest = std::max<int64_t>(longest, enc->tokenizer()->encode(t).size());
  REQUIRE(longest > cfg.max_length);
  auto got = enc->embed(texts);
  auto want = ref_embeddings();
  CHECK(breadth::test::max_abs_diff(got, want) < 1e-5);
  // Order does not depend on batching.
  std::vector<std::string> few(texts.begin() + 3, texts.begin() + 6);
  CHECK(breadth::test::max_abs_diff(enc->embed(few), want.narrow(0, 3, 3)) < 1e-5);
}

TEST_CASE("embedding-equivalence partitions equal the Python reference", "[encoder][minilm][divcov]") {
  const auto& ref = reference();
  const auto texts = ref["texts"].get<std::vector<std::string>>();
  const double threshold = ref["threshold"];
  auto direct = embedding_equivalence(make_text_embedder(minilm()), threshold);
  for (size_t s = 0; s < ref["sets"].size(); ++s) {
    std::vector<std::string> answers;
    for (const auto& i : ref["sets"][s]) answers.push_back(texts[i.get<size_t>()]);
    const auto want = ref["partitions"][s].get<std::vector<int>>();
    INFO("answer set " << s);
    CHECK(partition(answers, *direct) == want);
  }
}

