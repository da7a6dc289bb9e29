// breadth's evaluation against the Python references on NoveltyBench's real gemini-1.5-pro
// generations (refs.json from make_eval_refs.py: nltk, rouge-score, vendi-score, tokenizers).
#include <nlohmann/json.hpp>

#include <fstream>

#include "breadth/divcov.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/metrics.hpp"
#include "breadth/pareto.hpp"
#include "common/test_env.hpp"
#include "eval/eval_catch.hpp"

using namespace breadth;
using nlohmann::json;

namespace {

const json& refs() {
  static json j = [] {
    std::ifstream in(test::fixtures_dir() + "/eval_refs/refs.json");
    REQUIRE(in.good());
    return json::parse(in);
  }();
  return j;
}

const std::vector<EvalRecord>& records() {
  static auto r = read_eval_jsonl(test::shared_dir() + "/data/noveltybench/gemini-1.5-pro-curated-scores.jsonl");
  return r;
}

// The reference entry of each real record, matched by id.
const json& ref_of(const EvalRecord& r) {
  for (const auto& q : refs()["queries"])
    if (q["id"] == *r.id) return q;
  FAIL("no reference for " << *r.id);
  throw;
}

}  // namespace

TEST_CASE("word tokenizers equal nltk wordpunct_tokenize and rouge-score on every generation") {
  REQUIRE(records().size() == 100);
  size_t checked = 0;
  for (const auto& r : records()) {
    const auto& q = ref_of(r);
    for (size_t i = 0; i < r.generations.size(); ++i) {
      INFO(*r.id << " generation " << i);
      CHECK(word_tokenize(r.generations[i]) == q["words"][i].get<std::vector<std::string>>());
      CHECK(rouge_tokenize(r.generations[i]) == q["rouge_tokens"][i].get<std::vector<std::string>>());
      ++checked;
    }
  }
  CHECK(checked == 1000);
}

TEST_CASE("unigram shortcut and ROUGE-1 agree with NoveltyBench's rules on every real pair") {
  auto rouge = rouge1_equivalence(0.458);
  // A fallback that must never be asked: the shortcut decides short pairs alone.
  struct Refuse : Equivalence {
    struct J : PairJudge {
      std::vector<uint8_t> equivalent(const std::vector<std::pair<int, int>>& p) override {
        return std::vector<uint8_t>(p.size(), 2);  // marks "deferred"
      }
    };
    std::unique_ptr<PairJudge> prepare(const std::vector<std::string>&) const override {
      return std::make_unique<J>();
    }
    std::string name() const override { return "refuse"; }
  };
  auto shortcut = unigram_shortcut_equivalence(std::make_shared<Refuse>());
  int decided = 0, deferred = 0, rouge_equal = 0, pairs_seen = 0;
  for (const auto& r : records()) {
    const auto& q = ref_of(r);
    auto sj = shortcut->prepare(r.generations);
    auto rj = rouge->prepare(r.generations);
    auto rt = std::vector<std::vector<std::string>>();
    for (const auto& g : r.generations) rt.push_back(rouge_tokenize(g));
    for (const auto& p : q["pairs"]) {
      int i = p["i"], j = p["j"];
      INFO(*r.id << " pair " << i << "," << j);
      auto s = sj->equivalent({{i, j}})[0];
      if (p["shortcut"].is_null()) {
        CHECK(s == 2);
        ++deferred;
      } else {
        CHECK(s == (p["shortcut"].get<bool>() ? 1 : 0));
        ++decided;
      }
      double f = p["rouge1"];
      CHECK(rouge1(rt[i], rt[j]).fmeasure == Approx(f).margin(1e-12));
      CHECK(rj->equivalent({{i, j}})[0] == (f > 0.458 ? 1 : 0));
      rouge_equal += f > 0.458;
      ++pairs_seen;
    }
  }
  CHECK(pairs_seen == 4500);
  // The data exercise both branches of both rules.
  CHECK(decided > 100);
  CHECK(deferred > 100);
  CHECK(rouge_equal > 100);
  CHECK(rouge_equal < pairs_seen - 100);
}

TEST_CASE("Distinct-n, Self-BLEU, Self-ROUGE-L and Vendi equal nltk / rouge-score / vendi-score") {
  int rouge_checked = 0;
  for (const auto& r : records()) {
    const auto& q = ref_of(r);
    INFO(*r.id);
    const auto& g = r.generations;
    for (int n = 1; n <= 4; ++n) CHECK(distinct_n(g, n) == Approx(q["distinct"][n - 1].get<double>()).margin(1e-12));
    SelfBleuOptions m1;
    CHECK(self_bleu(g, m1) == Approx(q["self_bleu_method1"].get<double>()).margin(1e-12));
    SelfBleuOptions m0;
    m0.smoothing = BleuSmoothing::kNone;
    CHECK(self_bleu(g, m0) == Approx(q["self_bleu_none"].get<double>()).margin(1e-12));
    if (!q["self_rouge_l_mean"].is_null()) {
      CHECK(self_rouge_l(g) == Approx(q["self_rouge_l_mean"].get<double>()).margin(1e-12));
      CHECK(self_rouge_l(g, PairAggregate::kMeanOfMax) == Approx(q["self_rouge_l_max"].get<double>()).margin(1e-12));
      ++rouge_checked;
    }
    // Eigenvalues by different solvers (LAPACK vs Eigen): agreement to 1e-9 relative.
    CHECK(vendi_score_ngram(g, {1, 2, 3, 4}, NgramKernel::kCosine) ==
          Approx(q["vendi_ngram_cosine"].get<double>()).epsilon(1e-9));
    CHECK(vendi_score_ngram(g, {1, 2, 3, 4}, NgramKernel::kJaccard) ==
          Approx(q["vendi_ngram_jaccard"].get<double>()).epsilon(1e-9));
    auto ids = q["token_ids"].get<std::vector<std::vector<int32_t>>>();
    const int64_t vocab = refs()["qwen3_vocab"];
    CHECK(ead_n(ids, 1, vocab) == Approx(q["ead"][0].get<double>()).epsilon(1e-12));
    CHECK(ead_n(ids, 2, vocab) == Approx(q["ead"][1].get<double>()).epsilon(1e-12));
  }
  CHECK(rouge_checked == 65);
}

TEST_CASE("embedding Vendi and cosine dissimilarity equal vendi-score and numpy") {
  for (const auto& e : refs()["embeddings"]) {
    auto rows = e["x"].get<std::vector<std::vector<double>>>();
    auto x = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, torch::kFloat64);
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < rows[i].size(); ++j) x[i][j] = rows[i][j];
    CHECK(vendi_score_embeddings(x) == Approx(e["vendi"].get<double>()).epsilon(1e-9));
    CHECK(embedding_dissimilarity(x) == Approx(e["dissimilarity"].get<double>()).margin(1e-12));
    // float32 embeddings (as an encoder returns them) agree to float precision.
    CHECK(vendi_score_embeddings(x.to(torch::kFloat32)) == Approx(e["vendi"].get<double>()).epsilon(1e-5));
  }
}

TEST_CASE("Coverage and Dominance on a random case equal a brute-force computation") {
  const auto& p = refs()["pareto"];
  QDSpace sp;
  sp.anchors.x_min = p["anchors"]["x_min"];
  sp.anchors.x_max = p["anchors"]["x_max"];
  sp.anchors.y_min = p["anchors"]["y_min"];
  sp.anchors.y_max = p["anchors"]["y_max"];
  for (const auto& [name, pts] : p["methods"].items()) {
    MethodPoints m;
    m.name = name;
    for (const auto& xy : pts) m.points.push_back({xy[0].get<double>(), xy[1].get<double>()});
    sp.methods.push_back(m);
  }
  auto res = evaluate_space(sp);
  REQUIRE(res.methods.size() == 3);
  double dq = 0, dd = 0;
  for (const auto& m : res.methods) {
    INFO(m.name);
    CHECK(m.kept_points == p["kept"][m.name].get<int>());
    CHECK(m.coverage == Approx(p["coverage"][m.name].get<double>()).margin(1e-6));
    const auto& d = p["dominance"][m.name];
    CHECK(m.dominance.dom_q == Approx(d["dom_q"].get<double>()).margin(2e-5));
    CHECK(m.dominance.dom_d == Approx(d["dom_d"].get<double>()).margin(2e-5));
    CHECK(m.dominance.dom == Approx(d["dom"].get<double>()).margin(5e-5));
    dq += m.dominance.dom_q;
    dd += m.dominance.dom_d;
  }
  CHECK(dq == Approx(1.0));
  CHECK(dd == Approx(1.0));
}
