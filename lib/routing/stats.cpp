// Paired significance tests over queries: Student's paired t-test and a sign-flip permutation test.
#include <cmath>
#include <limits>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

namespace routing {

namespace {
// Continued fraction of the incomplete beta (modified Lentz), as in Numerical Recipes §6.4.
double betacf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < eps) break;
  }
  return h;
}
}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double lbt = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  double bt = std::exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return bt * betacf(a, b, x) / a;
  return 1 - bt * betacf(b, a, 1 - x) / b;
}

double t_two_sided_p(double t, double df) {
  if (std::isinf(t)) return 0;
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

}  // namespace routing

PairedTest paired_test(const std::vector<double>& x, const std::vector<double>& y, int64_t permutations,
                       uint64_t seed) {
  BREADTH_CHECK_ARG(x.size() == y.size() && x.size() >= 2,
                    "paired_test: needs two samples of equal length >= 2 (got {} and {})", x.size(), y.size());
  BREADTH_CHECK_ARG(permutations >= 0, "paired_test: permutations must be >= 0");
  const size_t n = x.size();
  std::vector<double> d(n);
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += (d[i] = x[i] - y[i]);
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double v : d) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  PairedTest r;
  r.n = static_cast<int64_t>(n);
  r.mean_diff = mean;
  if (sd > 0) {
    r.t = mean / (sd / std::sqrt(static_cast<double>(n)));
    r.t_p = routing::t_two_sided_p(r.t, static_cast<double>(n - 1));
  } else {
    r.t = mean == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), mean);
    r.t_p = mean == 0 ? 1 : 0;
  }
  if (permutations > 0) {
    // Under H0 each difference's sign is a fair coin. Compare sums (same as means) with a relative
    // tolerance so that exact ties with the observed statistic count as "at least as extreme".
    double obs = std::fabs(mean * static_cast<double>(n));
    double tol = 1e-12 * (1 + obs);
    std::mt19937_64 g(seed);
    int64_t extreme = 0;
    for (int64_t p = 0; p < permutations; ++p) {
      double s = 0;
      uint64_t bits = 0;
      for (size_t i = 0; i < n; ++i) {
        if (i % 64 == 0) bits = g();
        s += (bits & 1) ? d[i] : -d[i];
        bits >>= 1;
      }
      if (std::fabs(s) >= obs - tol) ++extreme;
    }
    r.perm_p = static_cast<double>(extreme + 1) / static_cast<double>(permutations + 1);
  }
  return r;
}

}  // namespace breadth
