// Diverse beam search: hand-worked steps, and the model driver against a naive re-implementation with
// full forward passes.
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "methods_test_util.hpp"

using namespace methods_test;

namespace {

const double kNegInf = -std::numeric_limits<double>::infinity();

torch::Tensor logs(std::vector<std::vector<double>> rows) {
  std::vector<torch::Tensor> t;
  for (auto& r : rows) t.push_back(torch::tensor(r, torch::kFloat64).log());
  return torch::stack(t);
}

}  // namespace

TEST_CASE("diverse beam step: the Hamming penalty pushes later groups off earlier groups' tokens", "[methods][diverse_beam]") {
  // G = 2 groups of K = 1 beam, V = 3, both beams with P = (.5, .3, .2).
  auto lp = logs({{.5, .3, .2}, {.5, .3, .2}});
  // λ = 0: both groups take token 0.
  auto s0 = diverse_beam_step(lp, {0.0, 0.0}, {false, false}, 2, 0.0);
  CHECK(s0.tokens == std::vector<int32_t>{0, 0});
  // λ = 1: group 1 scores token 0 at log .5 − 1 = −1.693 < log .3 = −1.204, so it takes token 1.
  auto s1 = diverse_beam_step(lp, {0.0, 0.0}, {false, false}, 2, 1.0);
  CHECK(s1.tokens == std::vector<int32_t>{0, 1});
  CHECK(s1.parents == std::vector<int64_t>{0, 1});
  CHECK(s1.scores[0] == Approx(std::log(.5)));
  CHECK(s1.scores[1] == Approx(std::log(.3)));
  // λ = 0.4: log .5 − 0.4 = −1.093 > −1.204: group 1 still takes token 0.
  auto s2 = diverse_beam_step(lp, {0.0, 0.0}, {false, false}, 2, 0.4);
  CHECK(s2.tokens == std::vector<int32_t>{0, 0});
  CHECK(s2.scores[1] == Approx(std::log(.5) - 0.4));
}

TEST_CASE("diverse beam step: K beams per group, unused slots, finished beams and counts", "[methods][diverse_beam]") {
  // G = 2, K = 2, V = 3. Group 0: beam 0 (score −1) P = (.6,.3,.1); beam 1 unused. Group 1: beam 2
  // (score −0.5) P = (.7, .2, .1); beam 3 finished with score −1.0.
  auto lp = logs({{.6, .3, .1}, {1. / 3, 1. / 3, 1. / 3}, {.7, .2, .1}, {.2, .2, .6}});
  auto st = diverse_beam_step(lp, {-1.0, kNegInf, -0.5, -1.0}, {false, false, false, true}, 2, 1.0);
  // Group 0: −1 + log .6 = −1.511 (token 0), −1 + log .3 = −2.204 (token 1).
  CHECK(st.parents == std::vector<int64_t>{0, 0, 3, 2});
  CHECK(st.tokens[0] == 0);
  CHECK(st.tokens[1] == 1);
  CHECK(st.scores[0] == Approx(-1 + std::log(.6)));
  CHECK(st.scores[1] == Approx(-1 + std::log(.3)));
  // Group 1, tokens 0 and 1 each chosen once by group 0: −0.5 + log .7 − 1 = −1.857, −0.5 + log .2 − 1
  // = −3.109, −0.5 + log .1 = −2.803; the finished beam carries −1.0 and comes first.
  CHECK(st.tokens[2] == -1);
  CHECK(st.scores[2] == Approx(-1.0));
  CHECK(st.tokens[3] == 0);
  CHECK(st.scores[3] == Approx(-0.5 + std::log(.7) - 1.0));
  CHECK_THROWS_WITH(diverse_beam_step(lp, {0, 0, 0}, {false, false, false}, 2, 1.0), Catch::Contains("one entry per beam"));
  CHECK_THROWS_WITH(diverse_beam_step(lp, {0, 0, 0, 0}, {false, false, false, false}, 3, 1.0), Catch::Contains("3 groups"));
}

TEST_CASE("diverse beam search on a model equals a naive re-implementation", "[methods][diverse_beam]") {
  const auto& M = *pair("shared").aligned;
  const std::string prompt = "Name a color.";
  const auto ids = aligned_ids(M, prompt);
  const auto eos = M.tokenizer()->eos_ids();
  for (auto [G, K, lambda] : {std::tuple<int64_t, int64_t, double>{2, 2, 0.7}, {3, 1, 50.0}, {1, 3, 0.0}}) {
    DiverseBeamOptions o;
    o.groups = G;
    o.num_samples = G * K;
    o.penalty = lambda;
    o.max_new_tokens = 5;
    auto r = diverse_beam(M, {prompt}, o);
    REQUIRE(r.samples.size() == static_cast<size_t>(G * K));
    // Naive: every beam rescored by a full forward pass; candidates enumerated over the vocabulary.
    struct Beam {
      std::vector<int32_t> toks;
      double score;
      bool done;
    };
    std::vector<std::vector<Beam>> groups(static_cast<size_t>(G), std::vector<Beam>{{{}, 0.0, false}});
    for (int64_t step = 0; step < o.max_new_tokens; ++step) {
      std::map<int32_t, int> chosen;
      for (auto& grp : groups) {
        std::vector<std::tuple<double, int, int32_t>> cands;  // (score, beam, token)
        for (int b = 0; b < static_cast<int>(grp.size()); ++b) {
          if (grp[static_cast<size_t>(b)].done) {
            cands.emplace_back(grp[static_cast<size_t>(b)].score, b, -1);
            continue;
          }
          auto lp = torch::log_softmax(full_logits(M, concat(ids, grp[static_cast<size_t>(b)].toks)), -1)[0].to(torch::kFloat64);
          auto acc = lp.accessor<double, 1>();
          for (int32_t v = 0; v < lp.size(0); ++v)
            cands.emplace_back(grp[static_cast<size_t>(b)].score + acc[v] - lambda * chosen[v], b, v);
        }
        std::sort(cands.begin(), cands.end(), [](const auto& a, const auto& c) {
          if (std::get<0>(a) != std::get<0>(c)) return std::get<0>(a) > std::get<0>(c);
          if (std::get<1>(a) != std::get<1>(c)) return std::get<1>(a) < std::get<1>(c);
          return std::get<2>(a) < std::get<2>(c);
        });
        std::vector<Beam> next;
        for (int64_t k = 0; k < K && k < static_cast<int64_t>(cands.size()); ++k) {
          auto [sc, b, v] = cands[static_cast<size_t>(k)];
          Beam nb = grp[static_cast<size_t>(b)];
          nb.score = sc;
          if (v >= 0) {
            nb.toks.push_back(v);
            nb.done = std::find(eos.begin(), eos.end(), v) != eos.end();
            chosen[v] += 1;
          }
          next.push_back(nb);
        }
        grp = next;
      }
    }
    for (int64_t g = 0; g < G; ++g)
      for (int64_t k = 0; k < K; ++k) {
        const auto& s = r.samples[static_cast<size_t>(g * K + k)];
        const auto& want = groups[static_cast<size_t>(g)][static_cast<size_t>(k)];
        INFO("G=" << G << " K=" << K << " beam " << g * K + k);
        CHECK(s.tokens == want.toks);
        CHECK(s.score == Approx(want.score).margin(1e-4));
      }
    if (G > 1 && lambda >= 50.0) {  // a penalty beyond any log-probability gap: every group starts with a different token
      std::set<int32_t> first;
      for (const auto& s : r.samples) first.insert(s.tokens.at(0));
      CHECK(static_cast<int64_t>(first.size()) == G);
    }
  }
}

TEST_CASE("diverse beam search refuses bad arguments", "[methods][diverse_beam]") {
  const auto& M = *pair("shared").aligned;
  DiverseBeamOptions o;
  o.num_samples = 5;
  o.groups = 2;
  CHECK_THROWS_WITH(diverse_beam(M, {"x"}, o), Catch::Contains("multiple of options.groups"));
  o.num_samples = 4;
  o.penalty = -1;
  CHECK_THROWS_WITH(diverse_beam(M, {"x"}, o), Catch::Contains("options.penalty"));
}

TEST_CASE("diverse beam search with one group and no penalty equals transformers' beam search", "[methods][diverse_beam]") {
  // transformers 5.x dropped group beam search from the library; its plain beam search is G = 1, λ = 0.
  std::ifstream f(breadth::test::fixtures_dir() + "/methods_beams/beams.json");
  REQUIRE(f.good());
  const auto refs = nlohmann::json::parse(f);
  REQUIRE(refs.size() == 4);
  const auto& M = *pair("shared").aligned;
  const auto eos = M.tokenizer()->eos_ids();
  for (const auto& ref : refs) {
    const std::string prompt = ref["prompt"];
    REQUIRE(aligned_ids(M, prompt) == ref["prompt_ids"].get<std::vector<int32_t>>());
    DiverseBeamOptions o;
    o.groups = 1;
    o.penalty = 0.0;
    o.num_samples = ref["num_beams"];
    o.max_new_tokens = ref["max_new_tokens"];
    auto r = diverse_beam(M, {prompt}, o);
    const auto seqs = ref["sequences"].get<std::vector<std::vector<int32_t>>>();
    const auto scores = ref["scores"].get<std::vector<double>>();
    REQUIRE(r.samples.size() == seqs.size());
    for (size_t b = 0; b < seqs.size(); ++b) {
      INFO(prompt << " beam " << b);
      // The reference ran without EOS; breadth's beams must not have met one for the comparison to hold.
      for (int32_t t : r.samples[b].tokens) REQUIRE(std::find(eos.begin(), eos.end(), t) == eos.end());
      CHECK(r.samples[b].tokens == seqs[b]);
      CHECK(r.samples[b].score == Approx(scores[b]).margin(1e-3));
    }
  }
}
