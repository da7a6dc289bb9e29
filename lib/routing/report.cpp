// The router paper's Table 3 experiment: routers and baselines on the test split over several seeds.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "core/check.hpp"
#include "routing/internal.hpp"

namespace breadth {

using namespace routing;

namespace {

struct Acc {
  std::string method;
  bool two = false, router = false;
  std::vector<MethodFigures> runs;
};

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  if (std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; })) return 0;  // exactly
  double m = mean_of(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

ReportRow summarize(const Acc& a) {
  ReportRow r;
  r.method = a.method;
  r.two_models = a.two;
  r.is_router = a.router;
  auto col = [&](auto f) {
    std::vector<double> v;
    for (const auto& run : a.runs) v.push_back(f(run));
    return std::make_pair(mean_of(v), sd_of(v));
  };
  std::tie(r.mean.unq, r.spread.unq) = col([](const MethodFigures& m) { return m.mean.unq; });
  std::tie(r.mean.qual, r.spread.qual) = col([](const MethodFigures& m) { return m.mean.qual; });
  std::tie(r.mean.unq_qual, r.spread.unq_qual) = col([](const MethodFigures& m) { return m.mean.unq_qual; });
  std::tie(r.mean.div_cov, r.spread.div_cov) = col([](const MethodFigures& m) { return m.mean.div_cov; });
  std::tie(r.accuracy, r.accuracy_spread) = col([](const MethodFigures& m) { return m.accuracy; });
  const size_t nq = a.runs.empty() ? 0 : a.runs[0].per_query_cov.size();
  r.per_query_cov.assign(nq, 0.0);
  for (const auto& run : a.runs)
    for (size_t q = 0; q < nq; ++q) r.per_query_cov[q] += run.per_query_cov[q] / static_cast<double>(a.runs.size());
  return r;
}

std::vector<Pick> picks_from(const std::vector<std::vector<int64_t>>& ranks, int64_t k, int64_t budget) {
  std::vector<Pick> out;
  for (const auto& r : ranks) {
    Pick p;
    p.models.assign(r.begin(), r.begin() + k);
    if (k > 1) p.budgets = route_budgets(budget, k);
    out.push_back(p);
  }
  return out;
}

}  // namespace

RoutingReport routing_report(const RoutingTable& table,
                             const std::vector<std::pair<std::string, Features>>& feature_sets,
                             const Split& split, const ReportOptions& o) {
  BREADTH_CHECK_ARG(o.seeds >= 1, "ReportOptions::seeds must be >= 1");
  BREADTH_CHECK_ARG(!split.test.empty() && !split.train.empty(), "routing_report: empty train or test split");
  const RoutingTable train = table.select(split.train);
  const RoutingTable test = table.select(split.test);
  const int64_t nt = test.num_queries(), M = table.num_models();
  const bool pairs = o.pairs && M >= 2;
  PairCache pc(test, o.scorer);

  std::vector<Acc> acc;
  auto slot = [&](const std::string& name, bool two, bool router) -> Acc& {
    for (auto& a : acc)
      if (a.method == name) return a;
    acc.push_back({name, two, router, {}});
    return acc.back();
  };
  auto add = [&](const std::string& name, bool two, bool router, const std::vector<Pick>& p) {
    slot(name, two, router).runs.push_back(evaluate_with(test, p, o.budget, pc));
  };

  // Routers to train: (label, options, feature set index).
  struct Job {
    std::string name;
    TrainOptions opt;
    size_t fs;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < feature_sets.size(); ++i) {
    const std::string& fs = feature_sets[i].first;
    for (auto k : o.knn_k) {
      TrainOptions t;
      t.kind = RouterKind::kKnn;
      t.knn_k = k;
      jobs.push_back({fmt::format("KNN (K={}, {})", k, fs), t, i});
    }
    if (o.mway) {
      TrainOptions t;
      t.kind = RouterKind::kMwayMlp;
      t.grid = o.grid;
      jobs.push_back({fmt::format("M-way MLP ({})", fs), t, i});
    }
    if (o.binary) {
      TrainOptions t;
      t.kind = RouterKind::kBinaryMlp;
      t.grid = o.grid;
      jobs.push_back({fmt::format("Binary MLP ({})", fs), t, i});
    }
  }
  const int64_t total = o.seeds * static_cast<int64_t>(jobs.size() + o.text_routers.size());
  int64_t done = 0;

  for (int64_t s = 0; s < o.seeds; ++s) {
    const uint64_t seed = o.first_seed + static_cast<uint64_t>(s);
    add("Top overall", false, false, baselines::top_overall(train, nt));
    add("Random model per query", false, false, baselines::random_model(M, nt, seed));
    add("Frequency", false, false, baselines::frequency(train, nt, seed));
    add("Top model per query (oracle)", false, false, baselines::oracle_top1(test));
    if (pairs) {
      add("Top 2 overall", true, false, baselines::top_two_overall(train, nt, o.budget));
      auto nb = route_budgets(o.budget, 2);
      std::vector<Pick> p;
      for (int64_t q = 0; q < nt; ++q) {
        auto b = pc.best(q, o.budget).first;
        p.push_back({{b.first, b.second}, nb});
      }
      add("Top 2 per query (oracle)", true, false, p);
    }
    for (auto& job : jobs) {
      job.opt.seed = seed;
      const Features& f = feature_sets[job.fs].second;
      BREADTH_CHECK_ARG(!f.mats.empty() && f.rows() == table.num_queries(),
                        "routing_report: feature set '{}' has {} rows for {} queries", feature_sets[job.fs].first,
                        f.mats.empty() ? 0 : f.rows(), table.num_queries());
      auto router = train_router(table, f, split, job.opt);
      auto ranks = router->rank(f.select(split.test));
      add(job.name, false, true, picks_from(ranks, 1, o.budget));
      if (pairs) add(job.name + " top-2", true, true, picks_from(ranks, 2, o.budget));
      ++done;
      if (const auto& progress = progress_callback(o); progress && !progress(done, total, job.name))
        fail<Cancelled>("routing report cancelled");
    }
    for (const auto& tr : o.text_routers) {
      BREADTH_CHECK_ARG(static_cast<bool>(tr.train), "ReportOptions::text_routers: '{}' has no train function",
                        tr.name);
      auto router = tr.train(table, split, seed);
      BREADTH_CHECK_ARG(router && router->reads_texts(),
                        "ReportOptions::text_routers: '{}' did not return a text router", tr.name);
      auto ranks = router->rank_texts(test.queries);
      add(tr.name, false, true, picks_from(ranks, 1, o.budget));
      if (pairs) add(tr.name + " top-2", true, true, picks_from(ranks, 2, o.budget));
      ++done;
      if (const auto& progress = progress_callback(o); progress && !progress(done, total, tr.name))
        fail<Cancelled>("routing report cancelled");
    }
  }

  RoutingReport rep;
  rep.test_queries = nt;
  rep.seeds = o.seeds;
  rep.exact_pairs = pc.exact();
  rep.models = table.models;
  for (double margin : o.dominance_margins) rep.dominance.push_back(dominant_models(table, margin));
  for (const auto& a : acc) rep.rows.push_back(summarize(a));
  auto find = [&](const std::string& name) -> const ReportRow* {
    for (const auto& r : rep.rows)
      if (r.method == name) return &r;
    return nullptr;
  };
  const ReportRow *best = nullptr, *best2 = nullptr;
  for (const auto& r : rep.rows) {
    if (!r.is_router) continue;
    auto& b = r.two_models ? best2 : best;
    if (!b || r.mean.div_cov > b->mean.div_cov) b = &r;
  }
  if (nt >= 2) {
    if (best) {
      rep.best_router = best->method;
      rep.vs_top_overall = paired_test(best->per_query_cov, find("Top overall")->per_query_cov, o.permutations,
                                       o.first_seed);
    }
    if (best2 && find("Top 2 overall")) {
      rep.best_pair_router = best2->method;
      rep.vs_top_two_overall = paired_test(best2->per_query_cov, find("Top 2 overall")->per_query_cov,
                                           o.permutations, o.first_seed);
    }
  }
  return rep;
}

RoutingReport evaluate_router(const Router& router, const RoutingTable& t, const Features& features,
                              int64_t budget, uint64_t seed, const SetScorer& scorer, int64_t permutations) {
  BREADTH_CHECK_ARG(router.pool() == t.models,
                    "the router serves the pool [{}] but the table's models are [{}] (names and order must match)",
                    join_names(router.pool()), join_names(t.models));
  const int64_t n = t.num_queries(), M = t.num_models();
  BREADTH_CHECK_ARG(router.reads_texts() || (!features.mats.empty() && features.rows() == n),
                    "evaluate_router: {} feature rows for {} queries", features.mats.empty() ? 0 : features.rows(), n);
  const auto& c = router.config();
  PairCache pc(t, scorer);
  RoutingReport rep;
  rep.test_queries = n;
  rep.seeds = 1;
  auto add = [&](const std::string& name, bool two, bool is_router, const std::vector<Pick>& p) {
    Acc a{name, two, is_router, {evaluate_with(t, p, budget, pc)}};
    rep.rows.push_back(summarize(a));
  };
  auto order = rank_rows(torch::tensor(c.train_mean_div_cov, torch::kFloat64).unsqueeze(0))[0];
  add("Top overall", false, false, std::vector<Pick>(static_cast<size_t>(n), Pick{{order[0]}, {}}));
  add("Random model per query", false, false, baselines::random_model(M, n, seed));
  {
    // Frequency from the saved training wins.
    double total = 0;
    for (auto w : c.train_wins) total += static_cast<double>(w);
    std::mt19937_64 g(seed);
    std::vector<Pick> p;
    for (int64_t q = 0; q < n; ++q) {
      double u = draw_unit(g) * total, acc = 0;
      int64_t m = 0;
      for (; m + 1 < M; ++m) {
        acc += static_cast<double>(c.train_wins[m]);
        if (u < acc) break;
      }
      while (m > 0 && c.train_wins[m] == 0) --m;
      p.push_back({{m}, {}});
    }
    add("Frequency", false, false, p);
  }
  add("Top model per query (oracle)", false, false, baselines::oracle_top1(t));
  auto ranks = router.reads_texts() ? router.rank_texts(t.queries) : router.rank(features);
  const std::string name = router.reads_texts()
                               ? std::string(router_kind_name(c.kind))
                               : fmt::format("{} ({})", router_kind_name(c.kind), feature_kind_name(c.feature_kind));
  add(name, false, true, picks_from(ranks, 1, budget));
  rep.best_router = name;
  if (M >= 2) {
    add("Top 2 overall", true, false,
        std::vector<Pick>(static_cast<size_t>(n), Pick{{order[0], order[1]}, route_budgets(budget, 2)}));
    std::vector<Pick> p;
    for (int64_t q = 0; q < n; ++q) {
      auto b = pc.best(q, budget).first;
      p.push_back({{b.first, b.second}, route_budgets(budget, 2)});
    }
    add("Top 2 per query (oracle)", true, false, p);
    add(name + " top-2", true, true, picks_from(ranks, 2, budget));
    rep.best_pair_router = name + " top-2";
  }
  rep.exact_pairs = pc.exact();
  auto cov = [&](const std::string& m) {
    for (const auto& r : rep.rows)
      if (r.method == m) return r.per_query_cov;
    return std::vector<double>{};
  };
  if (n >= 2) {
    rep.vs_top_overall = paired_test(cov(name), cov("Top overall"), permutations, seed);
    if (M >= 2) rep.vs_top_two_overall = paired_test(cov(name + " top-2"), cov("Top 2 overall"), permutations, seed);
  }
  return rep;
}

std::string RoutingReport::to_markdown() const {
  std::string s = fmt::format("Test split: {} queries; mean ± sample std over {} seed(s). Two-model figures: {}.\n\n",
                              test_queries, seeds,
                              exact_pairs ? "exact (merged answer sets re-scored)"
                                          : "half-budget approximation (no answers or no scorer)");
  s += "| Method | Acc | #Unq | Qual | UnqQual | Cov |\n|---|---|---|---|---|---|\n";
  auto pm = [&](double m, double sd, double scale, int prec) {
    return seeds > 1 ? fmt::format("{:.{}f} ± {:.{}f}", m * scale, prec, sd * scale, prec)
                     : fmt::format("{:.{}f}", m * scale, prec);
  };
  for (const auto& r : rows) {
    std::string mark;
    if (r.method == best_router && vs_top_overall)
      mark = vs_top_overall->perm_p < 0.05 ? " **" : " ns";
    if (r.method == best_pair_router && vs_top_two_overall)
      mark = vs_top_two_overall->perm_p < 0.05 ? " **" : " ns";
    s += fmt::format("| {} | {}% | {} | {} | {} | {}%{} |\n", r.method, pm(r.accuracy, r.accuracy_spread, 100, 1),
                     pm(r.mean.unq, r.spread.unq, 1, 1), pm(r.mean.qual, r.spread.qual, 1, 2),
                     pm(r.mean.unq_qual, r.spread.unq_qual, 1, 2), pm(r.mean.div_cov, r.spread.div_cov, 100, 1),
                     mark);
  }
  auto line = [&](const std::string& a, const char* b, const PairedTest& t) {
    return fmt::format(
        "\n{} vs {}: mean Cov difference {:+.2f} points over {} queries; paired t = {:.3f} (p = {:.4g}); "
        "sign-flip permutation p = {:.4g} (** marks p < 0.05).",
        a, b, 100 * t.mean_diff, t.n, t.t, t.t_p, t.perm_p);
  };
  if (vs_top_overall) s += line(best_router, "Top overall", *vs_top_overall);
  if (vs_top_two_overall) s += line(best_pair_router, "Top 2 overall", *vs_top_two_overall);
  if (!dominance.empty()) {
    // Figures 1 and 6: how often each model is the dominant one, over the whole table.
    s += fmt::format("\n\nDominant model per query over all {} queries (best div-cov at least the margin higher, "
                     "relatively, than every other model's):\n\n| Model |",
                     dominance[0].queries);
    for (const auto& d : dominance) s += fmt::format(" {:g}% margin |", 100 * d.margin);
    s += "\n|---|";
    for (size_t i = 0; i < dominance.size(); ++i) s += "---|";
    auto pct = [](int64_t c, int64_t n) { return n ? 100.0 * static_cast<double>(c) / static_cast<double>(n) : 0.0; };
    for (size_t m = 0; m < models.size(); ++m) {
      s += "\n| " + models[m] + " |";
      for (const auto& d : dominance) s += fmt::format(" {:.1f}% |", pct(d.dominant[m], d.queries));
    }
    s += "\n| No dominant single models |";
    for (const auto& d : dominance) s += fmt::format(" {:.1f}% |", pct(d.none, d.queries));
  }
  return s + "\n";
}

std::string RoutingReport::to_json() const {
  nlohmann::json rs = nlohmann::json::array();
  auto fig = [](const SetFigures& f) {
    return nlohmann::json{{"unq", f.unq}, {"qual", f.qual}, {"unq_qual", f.unq_qual}, {"div_cov", f.div_cov}};
  };
  for (const auto& r : rows)
    rs.push_back({{"method", r.method}, {"two_models", r.two_models}, {"router", r.is_router},
                  {"mean", fig(r.mean)}, {"spread", fig(r.spread)}, {"accuracy", r.accuracy},
                  {"accuracy_spread", r.accuracy_spread}});
  auto test = [](const std::optional<PairedTest>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return {{"mean_diff", t->mean_diff}, {"t", std::isfinite(t->t) ? nlohmann::json(t->t) : nlohmann::json(nullptr)},
            {"t_p", t->t_p}, {"perm_p", t->perm_p}, {"n", t->n}};
  };
  nlohmann::json j = {{"test_queries", test_queries}, {"seeds", seeds}, {"exact_pairs", exact_pairs},
                      {"rows", rs}, {"best_router", best_router}, {"best_pair_router", best_pair_router},
                      {"vs_top_overall", test(vs_top_overall)}, {"vs_top_two_overall", test(vs_top_two_overall)}};
  nlohmann::json dom = nlohmann::json::array();
  for (const auto& d : dominance) {
    nlohmann::json per = nlohmann::json::object();
    for (size_t m = 0; m < models.size(); ++m) per[models[m]] = d.dominant[m];
    dom.push_back({{"margin", d.margin}, {"queries", d.queries}, {"dominant", per}, {"none", d.none}});
  }
  j["dominance"] = dom;
  return j.dump(2);
}

}  // namespace breadth
