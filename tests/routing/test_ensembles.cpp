// k-model answer sets (Appendix H.2, Tables 9-10) and dominant-model frequencies (Figures 1, 6) on
// hand-worked tables.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "breadth/error.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;
using breadth::test::table_from;
using V = std::vector<int64_t>;

namespace {

// Two queries, three models. table_from: unq = 10·dc, qual = 1 + m, unq_qual = 2 + m.
RoutingTable small() { return table_from({{0.2, 0.4, 0.1}, {0.3, 0.1, 0.5}}); }

// A table with answers, and a scorer: #Unq = distinct answers, Cov = #Unq / 6.
RoutingTable with_answers(const std::vector<std::vector<std::string>>& per_model) {
  std::vector<RoutingRow> rows;
  for (size_t m = 0; m < per_model.size(); ++m) {
    RoutingRow r;
    r.query_id = "q0";
    r.query = "query";
    r.model = "m" + std::to_string(m);
    r.figures = {1, 1, 1, 0.1 * static_cast<double>(m + 1)};
    r.answers = per_model[m];
    rows.push_back(r);
  }
  return make_routing_table(rows);
}

SetFigures distinct_scorer(const std::string&, const std::vector<std::string>& a) {
  std::vector<std::string> s = a;
  std::sort(s.begin(), s.end());
  const double u = static_cast<double>(std::unique(s.begin(), s.end()) - s.begin());
  return {u, 1.0, 1.0, u / 6.0};
}

}  // namespace

TEST_CASE("set_figures: the budget-weighted approximation for k models, and exact merged sets") {
  auto t = small();
  // Models (1, 0, 2) with 20, 20, 10 answers: w = 0.4, 0.4, 0.2.
  auto f = set_figures(t, 0, {1, 0, 2}, {20, 20, 10});
  CHECK(f.div_cov == Approx(0.4 * 0.4 + 0.4 * 0.2 + 0.2 * 0.1));
  CHECK(f.unq == Approx(2.6));
  CHECK(f.qual == Approx(0.4 * 2 + 0.4 * 1 + 0.2 * 3));
  CHECK(f.unq_qual == Approx((1.6 * 3 + 0.8 * 2 + 0.2 * 4) / 2.6));
  // Two models: the same as pair_figures.
  auto p = pair_figures(t, 1, 2, 0, 30, 20), s = set_figures(t, 1, {2, 0}, {30, 20});
  CHECK(p.div_cov == s.div_cov);
  CHECK(p.unq_qual == s.unq_qual);
  // Exact: the first budgets[i] answers of each model, in order.
  auto a = with_answers({{"a", "b", "c"}, {"a", "d", "e"}, {"f", "g", "h"}});
  std::vector<std::string> seen;
  auto spy = [&](const std::string& q, const std::vector<std::string>& x) {
    seen = x;
    return distinct_scorer(q, x);
  };
  auto e = set_figures(a, 0, {0, 1, 2}, {2, 2, 2}, spy);
  CHECK(seen == std::vector<std::string>{"a", "b", "a", "d", "f", "g"});
  CHECK(e.div_cov == Approx(5.0 / 6));
  CHECK_THROWS_AS(set_figures(t, 0, {0, 0}, {1, 1}), InvalidArgument);
  CHECK_THROWS_AS(set_figures(t, 0, {0, 1}, {1}), InvalidArgument);
  CHECK_THROWS_AS(set_figures(t, 0, {0, 1}, {0, 0}), InvalidArgument);
  CHECK_THROWS_AS(set_figures(t, 0, {0, 3}, {1, 1}), InvalidArgument);
}

TEST_CASE("budget splits and the per-question best split") {
  CHECK(budget_splits(10, 2, 5) == std::vector<V>{{0, 10}, {5, 5}, {10, 0}});
  CHECK(budget_splits(4, 3, 2) == std::vector<V>{{0, 0, 4}, {0, 2, 2}, {0, 4, 0}, {2, 0, 2}, {2, 2, 0}, {4, 0, 0}});
  CHECK(budget_splits(50, 2, 5).size() == 11);
  CHECK(budget_splits(50, 3, 5).size() == 66);  // C(12, 2)
  try {
    budget_splits(10, 2, 3);
    FAIL("no error");
  } catch (const InvalidArgument& e) {
    CHECK(std::string(e.what()).find("step (3)") != std::string::npos);
  }
  // Approximation: Cov is linear in the weights, so the best split gives everything to the better model.
  auto t = small();
  auto b = best_split(t, 0, {1, 0}, 10, 5);
  CHECK(b.budgets == V{10, 0});
  CHECK(b.figures.div_cov == Approx(0.4));
  // Equal models: every split ties; the earliest wins.
  CHECK(best_split(table_from({{0.2, 0.2}}), 0, {0, 1}, 10, 5).budgets == V{0, 10});
  // Exact: mixing two repetitive models beats either alone.
  auto a = with_answers({{"a", "b", "a", "a"}, {"c", "d", "c", "c"}});
  auto x = best_split(a, 0, {0, 1}, 4, 2, distinct_scorer);
  CHECK(x.budgets == V{2, 2});
  CHECK(x.figures.div_cov == Approx(4.0 / 6));
}

TEST_CASE("ratio report: Tables 9 and 10 on a hand-worked table") {
  auto t = small();  // means: m0 .25, m1 .25, m2 .3 -> top 2 = (m2, m0)
  RatioOptions o;
  o.budget = 10;
  o.step = 5;
  auto r = ratio_report(t, o);
  CHECK(r.top_models == std::vector<std::string>{"m2", "m0"});
  REQUIRE(r.global.size() == 9);
  auto row = [&](const std::string& method, const V& b) -> const RatioRow& {
    for (const auto& x : r.global)
      if (x.method == method && x.budgets == b) return x;
    FAIL("no row " << method);
    return r.global[0];
  };
  // Oracle models: per query the best pair (ordered by own div-cov) at the split.
  CHECK(row("Oracle models", {0, 10}).mean.div_cov == Approx((0.2 + 0.3) / 2));
  CHECK(row("Oracle models", {5, 5}).mean.div_cov == Approx((0.3 + 0.4) / 2));
  CHECK(row("Oracle models", {10, 0}).mean.div_cov == Approx((0.4 + 0.5) / 2));
  CHECK(row("Top 2 models", {0, 10}).mean.div_cov == Approx((0.2 + 0.3) / 2));
  CHECK(row("Top 2 models", {5, 5}).mean.div_cov == Approx((0.15 + 0.4) / 2));
  CHECK(row("Top 2 models", {10, 0}).mean.div_cov == Approx((0.1 + 0.5) / 2));
  // Random pairs are drawn once per query: under the (linear) approximation the even split is the
  // mean of the two extremes.
  CHECK(row("Random models", {5, 5}).mean.div_cov ==
        Approx((row("Random models", {0, 10}).mean.div_cov + row("Random models", {10, 0}).mean.div_cov) / 2));
  REQUIRE(r.per_question.size() == 3);
  CHECK(r.per_question[0].method == "Oracle ratio");
  CHECK(r.per_question[0].budgets.empty());
  CHECK(r.per_question[0].mean.div_cov == Approx((0.2 + 0.5) / 2));  // q0 all to m0, q1 all to m2
  CHECK(r.per_question[0].mean.unq == Approx(3.5));
  CHECK(r.per_question[1].method == "Overall best (10:0)");
  CHECK(r.per_question[1].mean.div_cov == Approx(0.3));
  CHECK(r.per_question[2].method == "Even split");
  CHECK(r.per_question[2].mean.div_cov == Approx(0.275));
  CHECK(r.to_markdown().find("| Oracle ratio | per question |") != std::string::npos);
  CHECK(nlohmann::json::parse(r.to_json())["per_question"][1]["budgets"] == nlohmann::json({10, 0}));

  // Three models out of three: the oracle's only set is the random one, and the per-question split
  // gives each query's whole budget to its best model.
  o.models = 3;
  auto r3 = ratio_report(t, o);
  CHECK(r3.global.size() == 3 * 6);
  CHECK(r3.top_models == std::vector<std::string>{"m2", "m0", "m1"});
  for (size_t i = 0; i < 6; ++i) CHECK(r3.global[i].mean.div_cov == Approx(r3.global[12 + i].mean.div_cov));
  CHECK(r3.per_question[0].mean.div_cov == Approx((0.4 + 0.5) / 2));
  CHECK(r3.per_question[2].budgets == V{4, 3, 3});
  o.models = 4;
  CHECK_THROWS_AS(ratio_report(t, o), InvalidArgument);
}

TEST_CASE("evaluate_picks with three models per query") {
  auto t = small();
  std::vector<Pick> picks = {{{1, 0, 2}, {4, 4, 2}}, {{0, 1, 2}, {4, 4, 2}}};
  auto f = evaluate_picks(t, picks, 10);
  // q0: .4·.4 + .4·.2 + .2·.1 = .26, the best ordering (hit); q1: .4·.3 + .4·.1 + .2·.5 = .26 < .34.
  CHECK(f.per_query_cov[0] == Approx(0.26));
  CHECK(f.per_query_cov[1] == Approx(0.26));
  CHECK(f.accuracy == Approx(0.5));
}

TEST_CASE("dominant models at 5% and 10% margins (Figures 1 and 6)") {
  auto t = table_from({{0.2, 0.4, 0.1},     // m1 by far
                       {0.3, 0.1, 0.5},     // m2
                       {0.30, 0.32, 0.1},   // m1 by 6.7%: dominant at 5%, not at 10%
                       {0.0, 0.0, 0.0},     // nothing of value: none
                       {0.5, 0.5, 0.1},     // a tie: none
                       {0.0, 0.1, 0.0}});   // m1 against zeros
  auto d5 = dominant_models(t, 0.05), d10 = dominant_models(t, 0.10);
  CHECK(d5.queries == 6);
  CHECK(d5.dominant == V{0, 3, 1});
  CHECK(d5.none == 2);
  CHECK(d10.dominant == V{0, 2, 1});
  CHECK(d10.none == 3);
  CHECK_THROWS_AS(dominant_models(t, -0.1), InvalidArgument);

  // The routing report carries them for the whole table.
  auto syn = test::make_synthetic(40, 3, 4, 5);
  ReportOptions o;
  o.seeds = 1;
  o.mway = o.binary = false;
  o.knn_k = {1};
  o.permutations = 100;
  auto rep = routing_report(syn.table, {{"agn", syn.agnostic}}, split_queries(40, 0), o);
  REQUIRE(rep.dominance.size() == 2);
  auto want = dominant_models(syn.table, 0.05);
  CHECK(rep.dominance[0].dominant == want.dominant);
  CHECK(rep.dominance[0].none == want.none);
  CHECK(rep.models == syn.table.models);
  auto md = rep.to_markdown();
  CHECK(md.find("| No dominant single models |") != std::string::npos);
  CHECK(md.find("10% margin") != std::string::npos);
  CHECK(nlohmann::json::parse(rep.to_json())["dominance"][1]["margin"] == 0.10);
}
