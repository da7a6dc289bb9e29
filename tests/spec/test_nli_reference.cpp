// NLI diversity, bidirectional-entailment clusters and semantic entropy against transformers
// (make_nli_refs.py): two tiny random NLI checkpoints, RoBERTa (entailment = label 2) and BERT
// (entailment = label 0), every pair classified by transformers one at a time without padding.
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "breadth/encoder.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"
#include "breadth/spec.hpp"
#include "common/test_env.hpp"
// Last: libtorch's logging header defines its own CHECK, which Catch's must override.
#include <catch2/catch.hpp>

using namespace breadth;
using Pairs = std::vector<std::pair<std::string, std::string>>;

namespace {

nlohmann::json load_refs() {
  const std::string path = test::fixtures_dir() + "/nli_refs/refs.json";
  std::ifstream f(path);
  REQUIRE(f.good());  // the fixture_nli_refs setup test writes it
  return nlohmann::json::parse(f);
}

}  // namespace

TEST_CASE("NLI diversity, entailment clusters and semantic entropy equal the transformers reference") {
  const auto refs = load_refs();
  REQUIRE(refs["models"].size() == 2);
  for (const auto& m : refs["models"]) {
    const std::string path = m["path"];
    INFO("checkpoint " << m["name"].get<std::string>());
    auto encoder = Encoder::load(path);
    auto nli = make_nli_classifier(encoder);
    REQUIRE(m["groups"].size() == 4);
    for (const auto& g : m["groups"]) {
      const auto texts = g["texts"].get<std::vector<std::string>>();
      const auto lls = g["log_likelihoods"].get<std::vector<double>>();
      const auto prob = g["entailment_prob"].get<std::vector<std::vector<double>>>();
      const size_t n = texts.size();
      INFO("texts[0] = " << texts[0]);
      // Every ordered pair in one padded batch equals transformers' unpadded P(entailment).
      Pairs all;
      for (size_t i = 0; i < n; ++i)
        for (size_t j = 0; j < n; ++j) all.emplace_back(texts[i], texts[j]);
      auto p = nli->probabilities(all);
      REQUIRE(p.size() == n * n);
      for (size_t k = 0; k < p.size(); ++k) CHECK(p[k] == Approx(prob[k / n][k % n]).margin(1e-5));

      // NLI diversity: premise y_i, hypothesis y_j, i < j.
      const double div = nli_diversity(texts, [&](const Pairs& q) { return nli->probabilities(q); });
      CHECK(div == Approx(g["nli_diversity"].get<double>()).margin(1e-6));
      // The same through the spec layer, as `breadth eval --metrics nli_diversity:PATH` runs it.
      EvalRecord rec;
      rec.prompt = "q";
      rec.generations = texts;
      CHECK(make_metric("nli_diversity:" + path)->compute(rec, DivCovResult{}, "t") ==
            Approx(g["nli_diversity"].get<double>()).margin(1e-6));

      // Kuhn et al.'s Algorithm 1: entailment (argmax) both ways against each class's first member.
      const auto clusters = entailment_clusters(texts, [&](const Pairs& q) { return nli_entails(*encoder, q); });
      CHECK(clusters == g["clusters"].get<std::vector<int>>());
      // Semantic entropy from those clusters, with sequence log-likelihoods and without them.
      CHECK(semantic_entropy(clusters, lls) == Approx(g["semantic_entropy"].get<double>()).margin(1e-12));
      CHECK(semantic_entropy(clusters) == Approx(g["semantic_entropy_uniform"].get<double>()).margin(1e-12));
    }
  }
}
