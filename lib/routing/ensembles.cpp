// Answer sets from k models (router paper Appendix H.2): figures of k-model sets, budget splits and
// their per-question search (Tables 9 and 10), and the dominant-model frequencies (Figures 1 and 6).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <numeric>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

SetFigures set_figures(const RoutingTable& t, int64_t q, const std::vector<int64_t>& models,
                       const std::vector<int64_t>& budgets, const SetScorer& scorer) {
  const int64_t M = t.num_models();
  BREADTH_CHECK_ARG(q >= 0 && q < t.num_queries(), "set_figures: query {} outside the table ({} queries)", q,
                    t.num_queries());
  BREADTH_CHECK_ARG(!models.empty() && models.size() == budgets.size(),
                    "set_figures: {} models with {} budgets (give one budget per model, at least one model)",
                    models.size(), budgets.size());
  int64_t total = 0;
  for (size_t i = 0; i < models.size(); ++i) {
    BREADTH_CHECK_ARG(models[i] >= 0 && models[i] < M, "set_figures: model {} outside the pool of {}", models[i], M);
    BREADTH_CHECK_ARG(std::count(models.begin(), models.end(), models[i]) == 1,
                      "set_figures: model {} is given twice; the models must be distinct", models[i]);
    BREADTH_CHECK_ARG(budgets[i] >= 0, "set_figures: budget {} of model {} must be >= 0", budgets[i], models[i]);
    total += budgets[i];
  }
  BREADTH_CHECK_ARG(total > 0, "set_figures: the budgets must not all be 0");
  if (scorer && t.has_answers()) {
    std::vector<std::string> merged;
    for (size_t i = 0; i < models.size(); ++i) {
      const auto& A = t.answers[q][models[i]];
      merged.insert(merged.end(), A.begin(), A.begin() + std::min<int64_t>(budgets[i], static_cast<int64_t>(A.size())));
    }
    return scorer(t.queries[q], merged);
  }
  SetFigures r;
  double den = 0;
  for (size_t i = 0; i < models.size(); ++i) {
    const double w = static_cast<double>(budgets[i]) / static_cast<double>(total);
    const SetFigures f = t.figures(q, models[i]);
    r.unq += w * f.unq;
    r.qual += w * f.qual;
    r.div_cov += w * f.div_cov;
    r.unq_qual += w * f.unq * f.unq_qual;
    den += w * f.unq;
  }
  r.unq_qual = den > 0 ? r.unq_qual / den : 0.0;
  return r;
}

std::vector<std::vector<int64_t>> budget_splits(int64_t budget, int64_t k, int64_t step) {
  BREADTH_CHECK_ARG(k >= 1, "budget_splits: k = {} models; need at least 1", k);
  BREADTH_CHECK_ARG(step >= 1 && budget >= 1 && budget % step == 0,
                    "budget_splits: the step ({}) must be >= 1 and divide the budget ({})", step, budget);
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> cur;
  std::function<void(int64_t)> rec = [&](int64_t left) {
    if (static_cast<int64_t>(cur.size()) == k - 1) {
      cur.push_back(left);
      out.push_back(cur);
      cur.pop_back();
      return;
    }
    for (int64_t s = 0; s <= left; s += step) {
      cur.push_back(s);
      rec(left - s);
      cur.pop_back();
    }
  };
  rec(budget);
  return out;
}

RatioChoice best_split(const RoutingTable& t, int64_t q, const std::vector<int64_t>& models, int64_t budget,
                       int64_t step, const SetScorer& scorer) {
  RatioChoice best;
  bool first = true;
  for (auto& b : budget_splits(budget, static_cast<int64_t>(models.size()), step)) {
    auto f = set_figures(t, q, models, b, scorer);
    if (first || f.div_cov > best.figures.div_cov) best = {b, f};
    first = false;
  }
  return best;
}

namespace {

void add_to(SetFigures& acc, const SetFigures& f, double n) {
  acc.unq += f.unq / n;
  acc.qual += f.qual / n;
  acc.unq_qual += f.unq_qual / n;
  acc.div_cov += f.div_cov / n;
}

/// `models` ordered by their own div-cov on query q, better first (ties to the lower index).
std::vector<int64_t> by_div_cov(const RoutingTable& t, int64_t q, std::vector<int64_t> models) {
  auto dc = t.div_cov.accessor<double, 2>();
  std::stable_sort(models.begin(), models.end(), [&](int64_t a, int64_t b) { return dc[q][a] > dc[q][b]; });
  return models;
}

/// Every k-subset of 0..M-1 in lexicographic order.
std::vector<std::vector<int64_t>> subsets(int64_t M, int64_t k) {
  std::vector<std::vector<int64_t>> out;
  std::vector<int64_t> cur;
  std::function<void(int64_t)> rec = [&](int64_t from) {
    if (static_cast<int64_t>(cur.size()) == k) {
      out.push_back(cur);
      return;
    }
    for (int64_t m = from; m < M; ++m) {
      cur.push_back(m);
      rec(m + 1);
      cur.pop_back();
    }
  };
  rec(0);
  return out;
}

std::string split_name(const std::vector<int64_t>& b) {
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) s += (i ? ":" : "") + std::to_string(b[i]);
  return s;
}

}  // namespace

RatioReport ratio_report(const RoutingTable& t, const RatioOptions& o) {
  const int64_t Q = t.num_queries(), M = t.num_models(), k = o.models;
  BREADTH_CHECK_ARG(Q >= 1, "ratio_report: the table has no queries");
  BREADTH_CHECK_ARG(k >= 2 && k <= M, "RatioOptions::models = {} must be in 2..{} (the pool's size)", k, M);
  const auto splits = budget_splits(o.budget, k, o.step);
  RatioReport rep;
  rep.queries = Q;
  rep.budget = o.budget;
  rep.step = o.step;
  rep.exact = o.scorer && t.has_answers();
  auto overall = rank_rows(t.div_cov.mean(0).unsqueeze(0))[0];
  std::vector<int64_t> top(overall.begin(), overall.begin() + k);
  for (auto m : top) rep.top_models.push_back(t.models[static_cast<size_t>(m)]);
  const auto all_sets = subsets(M, k);
  // Random sets: k distinct models per query (partial Fisher-Yates), drawn once for every split.
  std::mt19937_64 g(o.seed);
  std::vector<std::vector<int64_t>> random_sets;
  for (int64_t q = 0; q < Q; ++q) {
    std::vector<int64_t> p(static_cast<size_t>(M));
    std::iota(p.begin(), p.end(), 0);
    for (int64_t i = 0; i < k; ++i) std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(i + draw_index(g, M - i))]);
    random_sets.push_back(by_div_cov(t, q, std::vector<int64_t>(p.begin(), p.begin() + k)));
  }
  const double n = static_cast<double>(Q);
  const std::string top_name = fmt::format("Top {} models", k);
  std::vector<RatioRow> oracle, fixed, random;
  for (const auto& b : splits) {
    RatioRow ro{"Oracle models", b, {}}, rt{top_name, b, {}}, rr{"Random models", b, {}};
    for (int64_t q = 0; q < Q; ++q) {
      SetFigures best;
      bool first = true;
      for (const auto& s : all_sets) {
        auto f = set_figures(t, q, by_div_cov(t, q, s), b, o.scorer);
        if (first || f.div_cov > best.div_cov) best = f;
        first = false;
      }
      add_to(ro.mean, best, n);
      add_to(rt.mean, set_figures(t, q, top, b, o.scorer), n);
      add_to(rr.mean, set_figures(t, q, random_sets[static_cast<size_t>(q)], b, o.scorer), n);
    }
    oracle.push_back(ro);
    fixed.push_back(rt);
    random.push_back(rr);
  }
  for (auto* rows : {&oracle, &fixed, &random}) rep.global.insert(rep.global.end(), rows->begin(), rows->end());
  // Table 10: the top k models with per-question, overall best and even splits.
  RatioRow per{"Oracle ratio", {}, {}};
  for (int64_t q = 0; q < Q; ++q) add_to(per.mean, best_split(t, q, top, o.budget, o.step, o.scorer).figures, n);
  const RatioRow* best_global = &fixed[0];
  for (const auto& r : fixed)
    if (r.mean.div_cov > best_global->mean.div_cov) best_global = &r;
  RatioRow overall_best = *best_global;
  overall_best.method = "Overall best (" + split_name(best_global->budgets) + ")";
  RatioRow even{"Even split", route_budgets(o.budget, k), {}};
  for (int64_t q = 0; q < Q; ++q) add_to(even.mean, set_figures(t, q, top, even.budgets, o.scorer), n);
  rep.per_question = {per, overall_best, even};
  return rep;
}

std::string RatioReport::to_markdown() const {
  std::string s = fmt::format(
      "Budget {} split in steps of {} over {} queries; top models: {}. Figures: {}.\n\n", budget, step, queries,
      join_names(top_models), exact ? "exact (merged answer sets re-scored)" : "budget-weighted approximation");
  auto row = [](const std::string& a, const std::string& b, const SetFigures& f) {
    return fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f}% |\n", a, b, f.unq, f.qual, f.unq_qual,
                       100 * f.div_cov);
  };
  s += "Global split, models varying per question (Table 9):\n\n| Models | Split | #Unq | Qual | UnqQual | Cov |\n"
       "|---|---|---|---|---|---|\n";
  for (const auto& r : global) s += row(r.method, split_name(r.budgets), r.mean);
  s += "\nTop models, split varying per question (Table 10):\n\n| Strategy | Split | #Unq | Qual | UnqQual | Cov |\n"
       "|---|---|---|---|---|---|\n";
  for (const auto& r : per_question) s += row(r.method, r.budgets.empty() ? "per question" : split_name(r.budgets), r.mean);
  return s;
}

std::string RatioReport::to_json() const {
  auto rows = [](const std::vector<RatioRow>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : v)
      a.push_back({{"method", r.method}, {"budgets", r.budgets},
                   {"mean", {{"unq", r.mean.unq}, {"qual", r.mean.qual}, {"unq_qual", r.mean.unq_qual},
                             {"div_cov", r.mean.div_cov}}}});
    return a;
  };
  nlohmann::json j = {{"queries", queries}, {"budget", budget},        {"step", step},
                      {"top_models", top_models}, {"exact", exact}, {"global", rows(global)},
                      {"per_question", rows(per_question)}};
  return j.dump(2);
}

DominanceFrequency dominant_models(const RoutingTable& t, double margin) {
  BREADTH_CHECK_ARG(std::isfinite(margin) && margin >= 0, "dominant_models: margin must be >= 0, got {}", margin);
  const int64_t Q = t.num_queries(), M = t.num_models();
  DominanceFrequency d;
  d.margin = margin;
  d.queries = Q;
  d.dominant.assign(static_cast<size_t>(M), 0);
  auto dc = t.div_cov.accessor<double, 2>();
  for (int64_t q = 0; q < Q; ++q) {
    int64_t best = 0;
    for (int64_t m = 1; m < M; ++m)
      if (dc[q][m] > dc[q][best]) best = m;
    double second = -1;
    for (int64_t m = 0; m < M; ++m)
      if (m != best) second = std::max(second, dc[q][m]);
    // One model alone dominates whenever it has any value.
    const bool dominant = dc[q][best] > 0 && (M == 1 || dc[q][best] >= (1 + margin) * second) &&
                          (M == 1 || dc[q][best] > second);
    if (dominant) ++d.dominant[static_cast<size_t>(best)];
    else ++d.none;
  }
  return d;
}

}  // namespace breadth
