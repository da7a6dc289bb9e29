// Figures of one-, two- and k-model picks over a table's queries.
#include <functional>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

SetFigures pair_figures(const RoutingTable& t, int64_t q, int64_t a, int64_t b, int64_t na, int64_t nb,
                        const SetScorer& scorer) {
  const int64_t M = t.num_models();
  BREADTH_CHECK_ARG(q >= 0 && q < t.num_queries() && a >= 0 && a < M && b >= 0 && b < M && a != b,
                    "pair_figures: query {} / models ({}, {}) outside the table or not distinct", q, a, b);
  BREADTH_CHECK_ARG(na >= 0 && nb >= 0 && na + nb > 0, "pair_figures: budgets ({}, {}) must be >= 0, not both 0",
                    na, nb);
  return set_figures(t, q, {a, b}, {na, nb}, scorer);
}

SetFigures routing::PairCache::get(int64_t q, int64_t a, int64_t b, int64_t na, int64_t nb) {
  auto key = std::make_tuple(q, a, b, na, nb);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  auto f = pair_figures(t_, q, a, b, na, nb, scorer_);
  cache_.emplace(key, f);
  return f;
}

std::pair<std::pair<int64_t, int64_t>, SetFigures> routing::PairCache::best(int64_t q, int64_t budget) {
  auto it = best_.find({q, budget});
  if (it != best_.end()) return it->second;
  const int64_t M = t_.num_models();
  BREADTH_CHECK_ARG(M >= 2, "two-model picks need a pool of at least 2 models");
  auto nb = route_budgets(budget, 2);
  auto dc = t_.div_cov.accessor<double, 2>();
  std::pair<std::pair<int64_t, int64_t>, SetFigures> best{{-1, -1}, {}};
  best.second.div_cov = -1;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = i + 1; j < M; ++j) {
      // The better single model answers first (its answers represent their classes).
      int64_t a = dc[q][j] > dc[q][i] ? j : i, b = a == i ? j : i;
      auto f = get(q, a, b, nb[0], nb[1]);
      if (f.div_cov > best.second.div_cov) best = {{a, b}, f};
    }
  }
  best_.emplace(std::make_pair(q, budget), best);
  return best;
}

MethodFigures routing::evaluate_with(const RoutingTable& t, const std::vector<Pick>& picks, int64_t budget, PairCache& pc) {
  const int64_t Q = t.num_queries();
  BREADTH_CHECK_ARG(static_cast<int64_t>(picks.size()) == Q, "evaluate_picks: {} picks for {} queries",
                    picks.size(), Q);
  MethodFigures r;
  auto dc = t.div_cov.accessor<double, 2>();
  for (int64_t q = 0; q < Q; ++q) {
    const Pick& p = picks[q];
    SetFigures f;
    bool hit;
    if (p.models.size() == 1) {
      f = t.figures(q, p.models[0]);
      double mx = dc[q][0];
      for (int64_t m = 1; m < t.num_models(); ++m) mx = std::max(mx, dc[q][m]);
      hit = f.div_cov >= mx - 1e-12;
    } else if (p.models.size() == 2) {
      BREADTH_CHECK_ARG(p.budgets.size() == 2, "evaluate_picks: query {} picks 2 models with {} budgets", q,
                        p.budgets.size());
      f = pc.get(q, p.models[0], p.models[1], p.budgets[0], p.budgets[1]);
      hit = f.div_cov >= pc.best(q, budget).second.div_cov - 1e-12;
    } else {
      // k >= 3 models: figures of the merged set; a hit reaches the best k models of the query
      // (every k-subset, ordered by their own div-cov, with the pick's budgets).
      BREADTH_CHECK_ARG(p.budgets.size() == p.models.size(),
                        "evaluate_picks: query {} picks {} models with {} budgets (one budget per model)", q,
                        p.models.size(), p.budgets.size());
      f = set_figures(t, q, p.models, p.budgets, pc.scorer());
      const int64_t k = static_cast<int64_t>(p.models.size()), M = t.num_models();
      double best = -1;
      std::vector<int64_t> cur;
      std::function<void(int64_t)> rec = [&](int64_t from) {
        if (static_cast<int64_t>(cur.size()) == k) {
          auto s = cur;
          std::stable_sort(s.begin(), s.end(), [&](int64_t a, int64_t b) { return dc[q][a] > dc[q][b]; });
          best = std::max(best, set_figures(t, q, s, p.budgets, pc.scorer()).div_cov);
          return;
        }
        for (int64_t m = from; m < M; ++m) {
          cur.push_back(m);
          rec(m + 1);
          cur.pop_back();
        }
      };
      rec(0);
      hit = f.div_cov >= best - 1e-12;
    }
    r.mean.unq += f.unq;
    r.mean.qual += f.qual;
    r.mean.unq_qual += f.unq_qual;
    r.mean.div_cov += f.div_cov;
    r.accuracy += hit ? 1 : 0;
    r.per_query_cov.push_back(f.div_cov);
  }
  const double n = static_cast<double>(std::max<int64_t>(Q, 1));
  r.mean.unq /= n;
  r.mean.qual /= n;
  r.mean.unq_qual /= n;
  r.mean.div_cov /= n;
  r.accuracy /= n;
  return r;
}

MethodFigures evaluate_picks(const RoutingTable& table, const std::vector<Pick>& picks, int64_t budget,
                             const SetScorer& scorer) {
  PairCache pc(table, scorer);
  return evaluate_with(table, picks, budget, pc);
}

}  // namespace breadth
