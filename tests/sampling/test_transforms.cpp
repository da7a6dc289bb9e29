// Transforms keep exactly the hand-worked supports, and draws follow the exact target distribution.
//
// The expected distributions are computed here, independently of lib/sampling, in double precision
// straight from the definitions (SPEC §2): softmax(logits / T), then top-k / top-p / min-p supports,
// renormalised. Frequencies are compared with a chi-square test at p = 0.001 (critical values from
// the chi-square table); tokens outside the support must never be drawn.
#include <torch/torch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "breadth/error.hpp"
#include "breadth/sampler.hpp"

using namespace breadth;

namespace {

torch::Tensor row(std::vector<float> v) {
  return torch::tensor(v, torch::kFloat32).unsqueeze(0);
}

std::vector<bool> support_of(const torch::Tensor& out) {
  auto o = out.squeeze(0).contiguous();
  std::vector<bool> s;
  for (int64_t i = 0; i < o.size(0); ++i) s.push_back(std::isfinite(o[i].item<float>()));
  return s;
}

// Reference: softmax in double.
std::vector<double> softmax(const std::vector<double>& l) {
  double m = -INFINITY;
  for (double x : l) m = std::max(m, x);
  std::vector<double> p(l.size());
  double z = 0;
  for (size_t i = 0; i < l.size(); ++i) z += (p[i] = std::isfinite(l[i]) ? std::exp(l[i] - m) : 0.0);
  for (auto& x : p) x /= z;
  return p;
}

// Reference target distribution, straight from the definitions.
std::vector<double> target(std::vector<double> l, double T, int k, double top_p, double min_p) {
  for (auto& x : l) x /= T;
  const size_t V = l.size();
  if (k > 0 && static_cast<size_t>(k) < V) {
    auto s = l;
    std::sort(s.rbegin(), s.rend());
    for (auto& x : l) if (x < s[k - 1]) x = -INFINITY;
  }
  if (top_p < 1) {
    auto p = softmax(l);
    for (size_t i = 0; i < V; ++i) {
      double before = 0;  // mass strictly more probable than token i
      for (size_t j = 0; j < V; ++j) if (p[j] > p[i]) before += p[j];
      if (!(before < top_p)) l[i] = -INFINITY;
    }
  }
  if (min_p > 0) {
    auto p = softmax(l);
    double mx = *std::max_element(p.begin(), p.end());
    for (size_t i = 0; i < V; ++i) if (p[i] < min_p * mx) l[i] = -INFINITY;
  }
  return softmax(l);
}

// Upper 0.1% points of the chi-square distribution, df = 1..7.
double chi2_crit(int df) {
  static const double t[] = {0, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322};
  REQUIRE(df >= 1);
  REQUIRE(df <= 7);
  return t[df];
}

// Draws `n` samples as a batch of n rows (one generator each); counts per token.
std::vector<int64_t> draw_counts(const std::vector<double>& logits, const SamplingOptions& opt,
                                 uint64_t seed, int64_t n) {
  std::vector<float> lf(logits.begin(), logits.end());
  auto batch = row(lf).expand({n, static_cast<int64_t>(lf.size())}).contiguous();
  Sampler sampler(opt);
  auto gens = make_generators(seed, 0, n);
  auto ids = sampler.sample(batch, gens).contiguous();
  REQUIRE(ids.size(0) == n);
  REQUIRE(ids.min().item<int64_t>() >= 0);
  REQUIRE(ids.max().item<int64_t>() < static_cast<int64_t>(lf.size()));
  std::vector<int64_t> counts(lf.size(), 0);
  auto acc = ids.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) counts[static_cast<size_t>(acc[i])]++;
  return counts;
}

// Pearson's chi-square of `counts` against `expect`; df = support size - 1. Counts outside the
// support are returned in `outside`.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& expect, int& df,
                  int64_t& outside) {
  int64_t n = 0;
  for (auto c : counts) n += c;
  double chi2 = 0;
  df = -1;
  outside = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expect[i] == 0) { outside += counts[i]; continue; }
    double e = expect[i] * static_cast<double>(n);
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
    ++df;
  }
  return chi2;
}

void check_distribution(const std::vector<double>& logits, const SamplingOptions& opt,
                        uint64_t seed, int64_t n = 20000) {
  auto expect = target(logits, opt.temperature, static_cast<int>(opt.top_k), opt.top_p, opt.min_p);
  auto counts = draw_counts(logits, opt, seed, n);
  int df;
  int64_t outside;
  double chi2 = chi_square(counts, expect, df, outside);
  INFO("drawn outside the support: " << outside);
  CHECK(outside == 0);
  if (df >= 1) {
    INFO("chi2 = " << chi2 << " with " << df << " degrees of freedom");
    CHECK(chi2 < chi2_crit(df));
  }
}

const std::vector<double> kLogits = {2.0, 1.0, 0.5, 0.0, -1.0, -3.0};

}  // namespace

TEST_CASE("options are validated with the field named") {
  auto msg = [](SamplingOptions o) {
    try {
      o.validate();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  SamplingOptions o;
  CHECK(msg(o).empty());
  o = {}; o.temperature = -0.1;  CHECK_THAT(msg(o), Catch::Contains("temperature"));
  o = {}; o.temperature = NAN;   CHECK_THAT(msg(o), Catch::Contains("temperature"));
  o = {}; o.top_k = -1;          CHECK_THAT(msg(o), Catch::Contains("top_k"));
  o = {}; o.top_p = 0.0;         CHECK_THAT(msg(o), Catch::Contains("top_p"));
  o = {}; o.top_p = 1.5;         CHECK_THAT(msg(o), Catch::Contains("top_p"));
  o = {}; o.min_p = 1.0;         CHECK_THAT(msg(o), Catch::Contains("min_p"));
  o = {}; o.min_p = -0.2;        CHECK_THAT(msg(o), Catch::Contains("min_p"));
  o = {}; o.temperature = 0; o.top_p = 0.5; o.min_p = 0.5; o.top_k = 3;
  CHECK(msg(o).empty());
  CHECK_THROWS_AS(Sampler(SamplingOptions{1.0, 0, 2.0, 0.0}), InvalidArgument);
}

TEST_CASE("top-k keeps the k largest logits (ties kept)") {
  CHECK(support_of(apply_top_k(row({1, 5, 3, 4, 2}), 2)) ==
        std::vector<bool>{false, true, false, true, false});
  CHECK(support_of(apply_top_k(row({1, 5, 4, 4, 2}), 2)) ==
        std::vector<bool>{false, true, true, true, false});
  CHECK(support_of(apply_top_k(row({1, 5, 3}), 0)) == std::vector<bool>{true, true, true});
  CHECK(support_of(apply_top_k(row({1, 5, 3}), 7)) == std::vector<bool>{true, true, true});
}

TEST_CASE("top-p keeps the smallest prefix reaching p (hand-worked)") {
  // probabilities 0.5, 0.25, 0.15, 0.1 (as log-probabilities)
  auto l = row({std::log(0.1f), std::log(0.5f), std::log(0.15f), std::log(0.25f)});
  // p = 0.5: the first token alone reaches it.
  CHECK(support_of(apply_top_p(l, 0.5)) == std::vector<bool>{false, true, false, false});
  // p = 0.6: 0.5 < 0.6 so the 0.25 token joins; 0.75 >= 0.6 stops.
  CHECK(support_of(apply_top_p(l, 0.6)) == std::vector<bool>{false, true, false, true});
  // p = 0.8: 0.5 + 0.25 = 0.75 < 0.8 so 0.15 joins.
  CHECK(support_of(apply_top_p(l, 0.8)) == std::vector<bool>{false, true, true, true});
  CHECK(support_of(apply_top_p(l, 0.95)) == std::vector<bool>{true, true, true, true});
  CHECK(support_of(apply_top_p(l, 0.01)) == std::vector<bool>{false, true, false, false});
  // Ties at the boundary are kept together: 0.4, 0.3, 0.3 with p = 0.5.
  auto t = row({std::log(0.3f), std::log(0.4f), std::log(0.3f)});
  CHECK(support_of(apply_top_p(t, 0.5)) == std::vector<bool>{true, true, true});
  CHECK(support_of(apply_top_p(t, 0.4)) == std::vector<bool>{false, true, false});
  // Already-removed tokens stay removed.
  auto m = row({0.0f, -INFINITY, 0.0f});
  CHECK(support_of(apply_top_p(m, 0.9)) == std::vector<bool>{true, false, true});
}

TEST_CASE("min-p keeps tokens with p >= min_p * p_max (hand-worked)") {
  // probabilities 0.5, 0.25, 0.15, 0.1: thresholds 0.5 * min_p
  auto l = row({std::log(0.5f), std::log(0.25f), std::log(0.15f), std::log(0.1f)});
  CHECK(support_of(apply_min_p(l, 0.45)) == std::vector<bool>{true, true, false, false});  // >= 0.225
  CHECK(support_of(apply_min_p(l, 0.25)) == std::vector<bool>{true, true, true, false});   // >= 0.125
  CHECK(support_of(apply_min_p(l, 0.1)) == std::vector<bool>{true, true, true, true});     // >= 0.05
  CHECK(support_of(apply_min_p(l, 0.9)) == std::vector<bool>{true, false, false, false});
}

TEST_CASE("temperature divides the logits") {
  auto out = apply_temperature(row({2, -4}), 0.5);
  CHECK(out[0][0].item<float>() == Approx(4));
  CHECK(out[0][1].item<float>() == Approx(-8));
  CHECK_THROWS_AS(apply_temperature(row({1}), 0.0), InvalidArgument);
}

TEST_CASE("the chain runs temperature, top-k, top-p, min-p in order") {
  SamplingOptions o;
  o.temperature = 0.7; o.top_k = 4; o.top_p = 0.9; o.min_p = 0.05;
  auto chain = make_chain(o);
  REQUIRE(chain.size() == 4);
  CHECK(chain[0]->name() == "temperature");
  CHECK(chain[1]->name() == "top-k");
  CHECK(chain[2]->name() == "top-p");
  CHECK(chain[3]->name() == "min-p");
  CHECK(make_chain(SamplingOptions{}).empty());
  o.temperature = 0;  // greedy leaves every standard stage out
  CHECK(make_chain(o).empty());
}

TEST_CASE("empirical frequencies match the exact target distribution") {
  SECTION("plain softmax") { check_distribution(kLogits, SamplingOptions{}, 1); }
  SECTION("temperature 0.6") { check_distribution(kLogits, SamplingOptions{0.6, 0, 1.0, 0.0}, 2); }
  SECTION("temperature 1.8") { check_distribution(kLogits, SamplingOptions{1.8, 0, 1.0, 0.0}, 3); }
  SECTION("top-k 3") { check_distribution(kLogits, SamplingOptions{1.0, 3, 1.0, 0.0}, 4); }
  SECTION("top-p 0.8") { check_distribution(kLogits, SamplingOptions{1.0, 0, 0.8, 0.0}, 5); }
  SECTION("min-p 0.1") { check_distribution(kLogits, SamplingOptions{1.0, 0, 1.0, 0.1}, 6); }
  SECTION("full chain") { check_distribution(kLogits, SamplingOptions{1.3, 5, 0.9, 0.08}, 7); }
  SECTION("masked tokens are never drawn") {
    check_distribution({0.0, -INFINITY, 1.0, -INFINITY, 0.5}, SamplingOptions{}, 8);
  }
}

TEST_CASE("the chi-square check has power: a wrong target is rejected") {
  // Draws at T = 1 judged against the T = 0.6 and the top-p 0.8 targets must fail the test.
  auto counts = draw_counts(kLogits, SamplingOptions{}, 1, 20000);
  int df = 0;
  int64_t outside = 0;
  const double wrong = chi_square(counts, target(kLogits, 0.6, 0, 1.0, 0.0), df, outside);
  CHECK(wrong > chi2_crit(df));
  chi_square(counts, target(kLogits, 1.0, 0, 0.8, 0.0), df, outside);
  CHECK(outside > 0);
}

TEST_CASE("one generator drawn many times follows the distribution too") {
  auto expect = target(kLogits, 1.0, 0, 1.0, 0.0);
  std::vector<float> lf(kLogits.begin(), kLogits.end());
  std::vector<torch::Generator> gens{make_generator(42, 0)};
  std::vector<int64_t> counts(lf.size(), 0);
  const int n = 8000;
  auto l = row(lf);
  for (int i = 0; i < n; ++i) counts[static_cast<size_t>(draw(l, gens).item<int64_t>())]++;
  double chi2 = 0;
  for (size_t i = 0; i < lf.size(); ++i) {
    double e = expect[i] * n;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  CHECK(chi2 < chi2_crit(5));
}

TEST_CASE("batched draws equal per-row draws with the same generators") {
  torch::manual_seed(0);
  const int64_t B = 16, V = 50;
  auto logits = torch::randn({B, V}) * 3;
  SamplingOptions o{1.1, 20, 0.95, 0.01};
  Sampler s(o);
  for (int step = 0; step < 3; ++step) {
    auto gens_batch = make_generators(123, 0, B);
    auto batch_ids = s.sample(logits, gens_batch);
    for (int64_t b = 0; b < B; ++b) {
      std::vector<torch::Generator> one{make_generator(123, static_cast<uint64_t>(b))};
      auto id = s.sample(logits.narrow(0, b, 1), one);
      CHECK(id.item<int64_t>() == batch_ids[b].item<int64_t>());
    }
    logits = logits.roll(1, 1);
  }
  // A shrunk batch: rows 3, 7, 12 drawn with their own generators.
  auto gens_a = make_generators(9, 0, B);
  auto gens_b = make_generators(9, 0, B);
  auto full = draw(logits, gens_a);
  std::vector<int64_t> rows{3, 7, 12};
  auto sub = draw(logits.index_select(0, torch::tensor(rows)), gens_b, rows);
  for (size_t i = 0; i < rows.size(); ++i)
    CHECK(sub[static_cast<int64_t>(i)].item<int64_t>() == full[rows[i]].item<int64_t>());
}

TEST_CASE("the same seed gives the same draws; different samples differ") {
  auto logits = torch::zeros({64, 1000});
  auto g1 = make_generators(5, 0, 64), g2 = make_generators(5, 0, 64), g3 = make_generators(6, 0, 64);
  auto a = draw(logits, g1), b = draw(logits, g2), c = draw(logits, g3);
  CHECK(torch::equal(a, b));
  CHECK(!torch::equal(a, c));
  CHECK(sample_seed(1, 0) != sample_seed(1, 1));
  CHECK(sample_seed(1, 0) != sample_seed(2, 0));
}

TEST_CASE("greedy is the argmax") {
  torch::manual_seed(1);
  auto logits = torch::randn({8, 33});
  SamplingOptions o;
  o.temperature = 0;
  std::vector<torch::Generator> none;
  auto ids = Sampler(o).sample(logits, none);
  for (int64_t b = 0; b < 8; ++b) {
    int64_t best = 0;
    for (int64_t v = 1; v < 33; ++v)
      if (logits[b][v].item<float>() > logits[b][best].item<float>()) best = v;
    CHECK(ids[b].item<int64_t>() == best);
  }
}

TEST_CASE("user transforms run after the standard chain") {
  struct Ban final : LogitsTransform {
    torch::Tensor apply(const torch::Tensor& l) const override {
      auto o = l.clone();
      o.select(1, 0).fill_(-INFINITY);
      return o;
    }
    std::string name() const override { return "ban-0"; }
  };
  SamplingOptions o;
  o.temperature = 0;
  Sampler s(o, {std::make_shared<Ban>()});
  std::vector<torch::Generator> none;
  CHECK(s.sample(row({5, 1, 2}), none).item<int64_t>() == 2);
  check_distribution({0.0, 1.0, 2.0}, SamplingOptions{}, 11, 2000);  // unaffected without it
  Sampler s2(SamplingOptions{}, {std::make_shared<Ban>()});
  auto gens = make_generators(3, 0, 500);
  auto ids = s2.sample(row({5, 1, 2}).expand({500, 3}).contiguous(), gens);
  CHECK((ids == 0).sum().item<int64_t>() == 0);
}

TEST_CASE("a row with no valid distribution yields -1, bad shapes throw") {
  auto gens = make_generators(0, 0, 2);
  auto ids = draw(torch::tensor({{0.0f, 1.0f}, {-INFINITY, -INFINITY}}), gens);
  CHECK(ids[1].item<int64_t>() == -1);
  CHECK(ids[0].item<int64_t>() >= 0);
  CHECK_THROWS_AS(draw(torch::zeros({3, 4}), gens), InvalidArgument);  // 2 generators for 3 rows
  CHECK_THROWS_AS(apply_top_p(torch::zeros({4}), 0.5), InvalidArgument);
  CHECK_THROWS_AS(apply_top_k(torch::zeros({2, 4}, torch::kInt64), 2), InvalidArgument);
}
