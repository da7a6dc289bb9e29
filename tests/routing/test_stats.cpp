// Paired significance tests against scipy (fixture routing_ref).
#include <catch2/catch.hpp>

#include "breadth/error.hpp"
#include <nlohmann/json.hpp>

#include <fstream>

#include "common/test_env.hpp"
#include "routing/internal.hpp"

using namespace breadth;

namespace {
// A reference to one parsed copy: `for (c : reference()["x"])` over a returned temporary would
// iterate a destroyed object (ASan: heap-use-after-free).
const nlohmann::json& reference() {
  static const nlohmann::json j = [] {
    std::ifstream in(test::fixtures_dir() + "/routing_ref/stats.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
  }();
  return j;
}
}  // namespace

TEST_CASE("incomplete beta matches scipy.special.betainc", "[routing][stats]") {
  for (const auto& c : reference()["betainc"]) {
    double v = routing::incomplete_beta(c["a"].get<double>(), c["b"].get<double>(), c["x"].get<double>());
    CHECK(v == Approx(c["value"].get<double>()).epsilon(1e-9));
  }
}

TEST_CASE("paired t-test matches scipy.stats.ttest_rel; permutation p matches exact enumeration",
          "[routing][stats]") {
  for (const auto& c : reference()["paired"]) {
    auto x = c["x"].get<std::vector<double>>(), y = c["y"].get<std::vector<double>>();
    auto r = paired_test(x, y, 20000, 5);
    CHECK(r.n == static_cast<int64_t>(x.size()));
    CHECK(r.t == Approx(c["t"].get<double>()).epsilon(1e-9));
    CHECK(r.t_p == Approx(c["t_p"].get<double>()).epsilon(1e-7));
    if (c.contains("perm_p_exact")) {
      double e = c["perm_p_exact"].get<double>();
      // Monte Carlo with 20000 draws: standard error <= 0.0036
      CHECK(r.perm_p == Approx(e).margin(0.015));
    }
  }
}

TEST_CASE("paired test edge cases", "[routing][stats]") {
  auto same = paired_test({1, 2, 3}, {1, 2, 3}, 100);
  CHECK(same.t == 0);
  CHECK(same.t_p == 1);
  CHECK(same.perm_p == 1);
  auto shift = paired_test({2, 3, 4, 5}, {1, 2, 3, 4}, 1000);  // constant difference
  CHECK(shift.mean_diff == 1);
  CHECK(shift.t_p == 0);
  // 4 equal positive differences: only 2 of 16 sign patterns reach |sum| = 4 -> p ~ 1/8
  CHECK(shift.perm_p == Approx(0.125).margin(0.03));
  CHECK_THROWS_AS(paired_test({1}, {2}), InvalidArgument);
  CHECK_THROWS_AS(paired_test({1, 2}, {2}), InvalidArgument);
}
