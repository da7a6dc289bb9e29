// The Table 3 report on a small synthetic problem.
#include <catch2/catch.hpp>

#include "breadth/error.hpp"
#include <nlohmann/json.hpp>

#include "routing/routing_test_util.hpp"

using namespace breadth;

TEST_CASE("routing report lists routers and baselines with spreads and a significance test", "[routing][report]") {
  auto s = test::make_synthetic(300, 5, 6, 17);
  auto split = split_queries(300, 2);
  ReportOptions o;
  o.seeds = 3;
  o.grid.hidden = {32};
  o.grid.weight_decay = {0};
  o.grid.labels = {LabelType::kOneHot};
  o.grid.max_epochs = 60;
  o.permutations = 2000;
  int64_t calls = 0;
  o.on_progress = [&](int64_t, int64_t total, const std::string&) {
    CHECK(total == 3 * 4);
    return ++calls, true;
  };
  auto rep = routing_report(s.table, {{"agn", s.agnostic}}, split, o);
  CHECK(calls == 12);
  CHECK(rep.test_queries == 60);
  CHECK(rep.seeds == 3);
  CHECK_FALSE(rep.exact_pairs);
  auto row = [&](const std::string& name) -> const ReportRow& {
    for (const auto& r : rep.rows)
      if (r.method == name) return r;
    FAIL("no row " << name);
    throw;
  };
  const auto& top = row("Top overall");
  const auto& oracle = row("Top model per query (oracle)");
  const auto& oracle2 = row("Top 2 per query (oracle)");
  CHECK(top.spread.div_cov == 0);  // deterministic
  CHECK(oracle.accuracy == 1.0);
  CHECK(row("Random model per query").spread.div_cov > 0);  // different draws per seed
  for (const auto& r : rep.rows) {
    if (r.two_models) CHECK(r.mean.div_cov <= oracle2.mean.div_cov + 1e-12);
    else CHECK(r.mean.div_cov <= oracle.mean.div_cov + 1e-12);
    CHECK(r.per_query_cov.size() == 60);
  }
  for (const char* name : {"KNN (K=1, agn)", "KNN (K=5, agn)", "M-way MLP (agn)", "Binary MLP (agn)",
                           "Binary MLP (agn) top-2", "Frequency", "Top 2 overall"})
    CHECK_NOTHROW(row(name));
  CHECK(row("KNN (K=1, agn)").spread.div_cov == 0);  // KNN does not depend on the seed
  REQUIRE(rep.vs_top_overall);
  const auto& best = row(rep.best_router);
  CHECK(best.is_router);
  CHECK(best.mean.div_cov > top.mean.div_cov + 0.03);
  CHECK(rep.vs_top_overall->mean_diff == Approx(best.mean.div_cov - top.mean.div_cov));
  CHECK(rep.vs_top_overall->perm_p < 0.01);
  REQUIRE(rep.vs_top_two_overall);
  auto md = rep.to_markdown();
  CHECK_THAT(md, Catch::Contains("| Top overall |") && Catch::Contains("±") && Catch::Contains("permutation"));
  auto j = nlohmann::json::parse(rep.to_json());
  CHECK(j["rows"].size() == rep.rows.size());
  CHECK(j["best_router"] == rep.best_router);
}

TEST_CASE("evaluate_router puts a saved router beside the baselines of its training summary", "[routing][report]") {
  auto s = test::make_synthetic(200, 4, 6, 8);
  auto split = split_queries(200, 5);
  TrainOptions o;
  o.kind = RouterKind::kKnn;
  o.knn_k = 5;
  auto r = train_router(s.table, s.agnostic, split, o);
  auto test = s.table.select(split.test);
  auto f = s.agnostic.select(split.test);
  auto rep = evaluate_router(*r, test, f, 50, 3, {}, 500);
  auto cov = [&](const std::string& name) {
    for (const auto& row : rep.rows)
      if (row.method == name) return row.mean.div_cov;
    FAIL("no row " << name);
    return 0.0;
  };
  auto train = s.table.select(split.train);
  const int64_t n = test.num_queries();
  // the same figures as the baselines computed from the training table itself
  CHECK(cov("Top overall") == Approx(evaluate_picks(test, baselines::top_overall(train, n)).mean.div_cov));
  CHECK(cov("Top 2 overall") == Approx(evaluate_picks(test, baselines::top_two_overall(train, n)).mean.div_cov));
  CHECK(cov("Frequency") == Approx(evaluate_picks(test, baselines::frequency(train, n, 3)).mean.div_cov));
  CHECK(cov("Top model per query (oracle)") == Approx(evaluate_picks(test, baselines::oracle_top1(test)).mean.div_cov));
  CHECK(cov("knn (agnostic)") == Approx(test::top1_cov(*r, s.table, s.agnostic, split.test)));
  REQUIRE(rep.vs_top_overall);
  CHECK(rep.vs_top_overall->mean_diff == Approx(cov("knn (agnostic)") - cov("Top overall")));
  // a table for another pool is refused
  auto other = test::make_synthetic(10, 5, 6, 8);
  CHECK_THROWS_AS(evaluate_router(*r, other.table, other.agnostic), InvalidArgument);
}
