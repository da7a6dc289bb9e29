// Baselines and pick evaluation against hand-worked numbers.
#include <catch2/catch.hpp>

#include <set>

#include "breadth/error.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;

namespace {
// Test split: 2 queries x 3 models with hand-chosen figures.
RoutingTable test_table() {
  std::vector<RoutingRow> rows = {
      {"t0", "t0", "m0", {10, 3, 2, 0.3}, {}},   {"t0", "t0", "m1", {4, 5, 6, 0.1}, {}},
      {"t0", "t0", "m2", {20, 4, 4, 0.5}, {}},   {"t1", "t1", "m0", {8, 2, 2.5, 0.2}, {}},
      {"t1", "t1", "m1", {30, 6, 5, 0.6}, {}},   {"t1", "t1", "m2", {16, 5, 6, 0.4}, {}},
  };
  return make_routing_table(rows);
}
// Training split: column means 0.325, 0.275, 0.3; wins m0 x2 (q1, q2), m1 (q0), m2 (q3).
RoutingTable train_table() {
  return test::table_from({{0.2, 0.5, 0.1}, {0.4, 0.3, 0.2}, {0.6, 0.1, 0.3}, {0.1, 0.2, 0.6}});
}
}  // namespace

TEST_CASE("top overall and oracle top-1 match hand computation", "[routing][baselines]") {
  auto train = train_table(), test = test_table();
  auto top = baselines::top_overall(train, 2);
  REQUIRE(top[0].models == std::vector<int64_t>{0});
  auto f = evaluate_picks(test, top);
  CHECK(f.mean.div_cov == Approx(0.25));  // (0.3 + 0.2) / 2
  CHECK(f.mean.unq == Approx(9));         // (10 + 8) / 2
  CHECK(f.mean.qual == Approx(2.5));
  CHECK(f.mean.unq_qual == Approx(2.25));
  CHECK(f.accuracy == 0.0);  // best models are m2 then m1
  CHECK(f.per_query_cov == std::vector<double>{0.3, 0.2});

  auto orc = baselines::oracle_top1(test);
  CHECK(orc[0].models[0] == 2);
  CHECK(orc[1].models[0] == 1);
  auto fo = evaluate_picks(test, orc);
  CHECK(fo.mean.div_cov == Approx(0.55));
  CHECK(fo.mean.unq == Approx(25));
  CHECK(fo.mean.qual == Approx(5));
  CHECK(fo.mean.unq_qual == Approx(4.5));
  CHECK(fo.accuracy == 1.0);
}

TEST_CASE("two-model baselines with the half-budget approximation", "[routing][baselines]") {
  auto train = train_table(), test = test_table();
  auto two = baselines::top_two_overall(train, 2, 50);
  REQUIRE(two[0].models == std::vector<int64_t>{0, 2});  // means 0.325 > 0.3 > 0.275
  REQUIRE(two[0].budgets == std::vector<int64_t>{25, 25});
  auto f = evaluate_picks(test, two, 50);
  // t0: cov (0.3+0.5)/2 = 0.4, unq 15, qual 3.5, unq_qual (10*2 + 20*4)/30 = 3.3333
  // t1: cov (0.2+0.4)/2 = 0.3, unq 12, qual 3.5, unq_qual (8*2.5 + 16*6)/24 = 4.8333
  CHECK(f.mean.div_cov == Approx(0.35));
  CHECK(f.mean.unq == Approx(13.5));
  CHECK(f.mean.qual == Approx(3.5));
  CHECK(f.mean.unq_qual == Approx((100.0 / 30 + 116.0 / 24) / 2));
  // best pairs: t0 (m2, m0) 0.4 -> hit; t1 (m1, m2) 0.5 -> miss
  CHECK(f.accuracy == Approx(0.5));

  auto orc = baselines::oracle_top2(test, 50);
  CHECK(orc[0].models == std::vector<int64_t>{2, 0});  // better single model first
  CHECK(orc[1].models == std::vector<int64_t>{1, 2});
  auto fo = evaluate_picks(test, orc, 50);
  CHECK(fo.mean.div_cov == Approx(0.45));
  CHECK(fo.accuracy == 1.0);

  // unequal budgets weight the figures: 40 from m1, 10 from m0 at t1: 0.8*0.6 + 0.2*0.2 = 0.52
  auto pf = pair_figures(test, 1, 1, 0, 40, 10);
  CHECK(pf.div_cov == Approx(0.52));
  CHECK(pf.unq == Approx(0.8 * 30 + 0.2 * 8));
  CHECK(pf.unq_qual == Approx((0.8 * 30 * 5 + 0.2 * 8 * 2.5) / (0.8 * 30 + 0.2 * 8)));
  CHECK_THROWS_AS(pair_figures(test, 0, 1, 1, 25, 25), InvalidArgument);
}

TEST_CASE("exact two-model figures merge half of each answer set", "[routing][baselines]") {
  // A scorer counting distinct strings (each of quality 1): div-cov = unique / 4.
  SetScorer scorer = [](const std::string&, const std::vector<std::string>& a) {
    std::set<std::string> u(a.begin(), a.end());
    SetFigures f;
    f.unq = static_cast<double>(u.size());
    f.qual = 1;
    f.unq_qual = 1;
    f.div_cov = f.unq / 4.0;
    return f;
  };
  std::vector<RoutingRow> rows = {
      {"q", "q", "A", {3, 1, 1, 0.75}, {"a", "b", "a", "c"}},
      {"q", "q", "B", {3, 1, 1, 0.75}, {"c", "d", "d", "e"}},
      {"q", "q", "C", {1, 1, 1, 0.25}, {"a", "a", "a", "a"}},
  };
  auto t = make_routing_table(rows);
  REQUIRE(t.has_answers());
  // A's first two {a, b} + B's first two {c, d}: 4 distinct
  CHECK(pair_figures(t, 0, 0, 1, 2, 2, scorer).unq == 4);
  // C's first two {a} + A's first two {a, b}: 2 distinct
  CHECK(pair_figures(t, 0, 2, 0, 2, 2, scorer).unq == 2);
  // 3 from A {a, b} + 1 from C {a}: 2 distinct
  CHECK(pair_figures(t, 0, 0, 2, 3, 1, scorer).div_cov == Approx(0.5));
  // without a scorer the approximation is used: (0.75 + 0.75) / 2
  CHECK(pair_figures(t, 0, 0, 1, 2, 2).div_cov == Approx(0.75));
  auto orc = baselines::oracle_top2(t, 4, scorer);
  CHECK(orc[0].models == std::vector<int64_t>{0, 1});
  CHECK(evaluate_picks(t, orc, 4, scorer).mean.div_cov == Approx(1.0));
}

TEST_CASE("random and frequency baselines draw with the right proportions", "[routing][baselines]") {
  auto train = train_table();  // wins: m0 2, m1 1, m2 1
  const int64_t n = 40000;
  auto count = [&](const std::vector<Pick>& p, int64_t M) {
    std::vector<double> c(static_cast<size_t>(M), 0);
    for (const auto& x : p) c[x.models[0]] += 1.0 / n;
    return c;
  };
  auto fr = count(baselines::frequency(train, n, 3), 3);
  CHECK(fr[0] == Approx(0.5).margin(0.01));
  CHECK(fr[1] == Approx(0.25).margin(0.01));
  CHECK(fr[2] == Approx(0.25).margin(0.01));
  auto rd = count(baselines::random_model(4, n, 3), 4);
  for (double v : rd) CHECK(v == Approx(0.25).margin(0.01));
  // seeded: the same seed gives the same draws, another seed others
  auto a = baselines::frequency(train, 50, 9), b = baselines::frequency(train, 50, 9),
       c = baselines::frequency(train, 50, 10);
  bool same = true, differ = false;
  for (size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].models == b[i].models;
    differ = differ || a[i].models != c[i].models;
  }
  CHECK(same);
  CHECK(differ);
  // a model that never wins is never drawn
  auto t0 = test::table_from({{0.9, 0.1, 0.0}, {0.1, 0.0, 0.8}});
  for (const auto& p : baselines::frequency(t0, 2000, 1)) CHECK(p.models[0] != 1);
}
