// Seeded train/validation/test splits of the queries, and budget splits across routed models.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

Split split_queries(int64_t n, uint64_t seed, double train_fraction, double val_fraction) {
  BREADTH_CHECK_ARG(n > 0, "split_queries: n = {} (need at least one query)", n);
  BREADTH_CHECK_ARG(train_fraction > 0 && val_fraction >= 0 && train_fraction + val_fraction <= 1,
                    "split_queries: fractions train={} val={} must be positive and sum to at most 1",
                    train_fraction, val_fraction);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 g(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[routing::draw_index(g, i + 1)]);
  auto n_train = static_cast<int64_t>(std::llround(static_cast<double>(n) * train_fraction));
  auto n_val = static_cast<int64_t>(std::llround(static_cast<double>(n) * val_fraction));
  n_train = std::min(n_train, n);
  n_val = std::min(n_val, n - n_train);
  Split s;
  s.train.assign(perm.begin(), perm.begin() + n_train);
  s.val.assign(perm.begin() + n_train, perm.begin() + n_train + n_val);
  s.test.assign(perm.begin() + n_train + n_val, perm.end());
  return s;
}

std::vector<int64_t> route_budgets(int64_t budget, int64_t k, const std::vector<double>& ratios) {
  BREADTH_CHECK_ARG(k >= 1, "route_budgets: k = {} (route to at least one model)", k);
  BREADTH_CHECK_ARG(budget >= 0, "route_budgets: budget = {} must not be negative", budget);
  std::vector<int64_t> out(static_cast<size_t>(k), budget / k);
  if (ratios.empty()) {
    for (int64_t i = 0; i < budget % k; ++i) ++out[i];
    return out;
  }
  BREADTH_CHECK_ARG(static_cast<int64_t>(ratios.size()) == k,
                    "route_budgets: {} ratios given for {} models", ratios.size(), k);
  double sum = 0;
  for (double r : ratios) {
    BREADTH_CHECK_ARG(std::isfinite(r) && r >= 0, "route_budgets: ratio {} must be finite and >= 0", r);
    sum += r;
  }
  BREADTH_CHECK_ARG(sum > 0, "route_budgets: ratios sum to 0");
  std::vector<double> rem(static_cast<size_t>(k));
  int64_t given = 0;
  for (int64_t i = 0; i < k; ++i) {
    double exact = static_cast<double>(budget) * ratios[i] / sum;
    out[i] = static_cast<int64_t>(std::floor(exact));
    rem[i] = exact - static_cast<double>(out[i]);
    given += out[i];
  }
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return rem[a] > rem[b]; });
  for (int64_t i = 0; given < budget; ++i, ++given) ++out[order[i % k]];
  return out;
}

}  // namespace breadth
