// Non-routing baselines of the router paper (§3.2, §4.2).
#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth::baselines {

using namespace routing;

namespace {

std::vector<int64_t> overall_order(const RoutingTable& train) {
  BREADTH_CHECK_ARG(train.num_queries() > 0, "baselines need at least one training query");
  return rank_rows(train.div_cov.mean(0).unsqueeze(0))[0];
}

std::vector<Pick> same(Pick p, int64_t n) { return std::vector<Pick>(static_cast<size_t>(n), p); }

}  // namespace

std::vector<Pick> top_overall(const RoutingTable& train, int64_t n) {
  return same({{overall_order(train)[0]}, {}}, n);
}

std::vector<Pick> top_two_overall(const RoutingTable& train, int64_t n, int64_t budget) {
  auto o = overall_order(train);
  BREADTH_CHECK_ARG(o.size() >= 2, "top two overall needs a pool of at least 2 models");
  return same({{o[0], o[1]}, route_budgets(budget, 2)}, n);
}

std::vector<Pick> random_model(int64_t n_models, int64_t n, uint64_t seed) {
  BREADTH_CHECK_ARG(n_models > 0, "random baseline: empty pool");
  std::mt19937_64 g(seed);
  std::vector<Pick> out;
  for (int64_t q = 0; q < n; ++q) out.push_back({{draw_index(g, n_models)}, {}});
  return out;
}

std::vector<Pick> frequency(const RoutingTable& train, int64_t n, uint64_t seed) {
  BREADTH_CHECK_ARG(train.num_queries() > 0, "frequency baseline needs training queries");
  std::vector<double> wins(static_cast<size_t>(train.num_models()), 0.0);
  for (auto i : argmax_rows(train.div_cov)) wins[i] += 1;
  const double total = static_cast<double>(train.num_queries());
  std::mt19937_64 g(seed);
  std::vector<Pick> out;
  for (int64_t q = 0; q < n; ++q) {
    double u = draw_unit(g) * total, c = 0;
    int64_t m = 0;
    for (; m + 1 < train.num_models(); ++m) {
      c += wins[m];
      if (u < c) break;
    }
    // Never land on a model without wins (only possible through rounding at the end).
    while (wins[m] == 0) --m;
    out.push_back({{m}, {}});
  }
  return out;
}

std::vector<Pick> oracle_top1(const RoutingTable& test) {
  std::vector<Pick> out;
  for (auto i : argmax_rows(test.div_cov)) out.push_back({{i}, {}});
  return out;
}

std::vector<Pick> oracle_top2(const RoutingTable& test, int64_t budget, const SetScorer& scorer) {
  PairCache pc(test, scorer);
  std::vector<Pick> out;
  auto nb = route_budgets(budget, 2);
  for (int64_t q = 0; q < test.num_queries(); ++q) {
    auto b = pc.best(q, budget).first;
    out.push_back({{b.first, b.second}, nb});
  }
  return out;
}

}  // namespace breadth::baselines
