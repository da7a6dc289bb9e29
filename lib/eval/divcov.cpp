// div-cov and its companion figures (router paper §2.2, §4.2), NoveltyBench's utility and distinct.
#include <cmath>

#include "breadth/divcov.hpp"
#include "core/check.hpp"

namespace breadth {

double noveltybench_utility(const std::vector<double>& g, double patience) {
  BREADTH_CHECK_ARG(patience > 0 && patience <= 1, "utility: patience must be in (0, 1] (got {})", patience);
  double num = 0.0, den = 0.0, w = 1.0;
  for (double x : g) {
    num += w * x;
    den += w;
    w *= patience;
  }
  return den > 0 ? num / den : 0.0;
}

std::vector<int> canonical_partition(const std::vector<int>& labels) {
  // Few classes per answer set: a linear scan of the labels seen so far beats a hash map.
  std::vector<int> seen, out;
  out.reserve(labels.size());
  for (int l : labels) {
    size_t k = 0;
    while (k < seen.size() && seen[k] != l) ++k;
    if (k == seen.size()) seen.push_back(l);
    out.push_back(static_cast<int>(k));
  }
  return out;
}

DivCovResult divcov_from(std::vector<int> labels, std::vector<double> quality, double max_unique_sum,
                         double patience) {
  std::vector<int> partition = canonical_partition(labels);
  BREADTH_CHECK_ARG(partition.size() == quality.size(),
                    "divcov: partition has {} entries but quality has {}", partition.size(), quality.size());
  BREADTH_CHECK_ARG(max_unique_sum > 0 || partition.empty(),
                    "divcov: max-uniq-sum must be > 0 (got {}); check the budget", max_unique_sum);
  DivCovResult r;
  const size_t n = partition.size();
  int next = 0;
  double unique_sum = 0.0, all_sum = 0.0;
  r.generation_scores.assign(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    BREADTH_CHECK_ARG(std::isfinite(quality[i]), "divcov: quality of answer {} is not finite", i);
    const int c = partition[i];
    all_sum += quality[i];
    if (c == next) {  // first member: the class representative
      ++next;
      unique_sum += quality[i];
      r.generation_scores[i] = quality[i];
    }
  }
  r.num_unique = next;
  r.distinct_legacy = next > 0 ? next - 1 : 0;
  r.qual = n ? all_sum / static_cast<double>(n) : 0.0;
  r.unq_qual = next ? unique_sum / static_cast<double>(next) : 0.0;
  r.div_cov = n ? unique_sum / max_unique_sum : 0.0;
  r.utility = noveltybench_utility(r.generation_scores, patience);
  r.partition = std::move(partition);
  r.quality = std::move(quality);
  return r;
}

DivCovResult evaluate_divcov(const std::string& prompt, const std::vector<std::string>& answers,
                             const Equivalence& equivalence, const QualityScorer& quality,
                             const DivCovOptions& options) {
  BREADTH_CHECK_ARG(options.budget >= 0, "divcov: budget must be >= 0 (got {})", options.budget);
  const int64_t budget = options.budget ? options.budget : static_cast<int64_t>(answers.size());
  BREADTH_CHECK_ARG(budget >= static_cast<int64_t>(answers.size()),
                    "divcov: {} answers exceed the budget B = {}; pass a budget >= the answer count",
                    answers.size(), budget);
  auto cls = partition(answers, equivalence);
  auto q = answers.empty() ? std::vector<double>{} : quality.score(prompt, answers);
  BREADTH_CHECK_ARG(q.size() == answers.size(), "divcov: the quality scorer returned {} scores for {} answers",
                    q.size(), answers.size());
  return divcov_from(std::move(cls), std::move(q), answers.empty() ? 1.0 : quality.max_unique_sum(budget),
                     options.patience);
}

}  // namespace breadth
