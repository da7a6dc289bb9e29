// Coverage and Dominance on hand-worked spaces (BACO Appendix C.2).

#include "breadth/error.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/pareto.hpp"
#include "eval/eval_catch.hpp"

using namespace breadth;
using P = std::vector<QDPoint>;

TEST_CASE("normalization anchors and dropped points") {
  // Base (quality 2, diversity 0.8), aligned (quality 6, diversity 0.4); higher diversity is better,
  // theoretical maximum 1.2: x in [2, 6], y in [0.4, 1.2].
  auto a = SpaceAnchors::from_models({2, 0.8}, {6, 0.4}, 1.2, true);
  CHECK(a.x_min == 2);
  CHECK(a.x_max == 6);
  CHECK(a.y_min == 0.4);
  CHECK(a.y_max == 1.2);
  auto n = normalize_points({{4, 0.8}, {7, 0.8}, {4, 0.3}, {2, 1.2}}, a);
  REQUIRE(n.size() == 2);
  CHECK(n[0].x == Approx(0.5));
  CHECK(n[0].y == Approx(0.5));
  CHECK(n[1].x == Approx(0.0));
  CHECK(n[1].y == Approx(1.0));
  // Lower is better (Self-BLEU): y from the bound 0 to aligned 0.6, flipped.
  auto b = SpaceAnchors::from_models({2, 0.3}, {6, 0.6}, 0.0, false);
  auto m = normalize_points({{3, 0.15}}, b);
  REQUIRE(m.size() == 1);
  CHECK(m[0].x == Approx(0.25));
  CHECK(m[0].y == Approx(0.75));
  CHECK_THROWS_AS(normalize_points({{1, 1}}, SpaceAnchors::from_models({6, 0}, {2, 1}, 2, true)), InvalidArgument);
  CHECK_THROWS_AS(normalize_points({{NAN, 1}}, a), InvalidArgument);
}

TEST_CASE("Pareto front keeps non-dominated points once") {
  auto f = pareto_front({{0.2, 0.9}, {0.5, 0.5}, {0.4, 0.4}, {0.5, 0.5}, {0.9, 0.1}, {0.5, 0.3}, {0.1, 0.9}});
  REQUIRE(f.size() == 3);
  CHECK(f[0].x == 0.2);
  CHECK(f[1].x == 0.5);
  CHECK(f[1].y == 0.5);
  CHECK(f[2].x == 0.9);
}

TEST_CASE("coverage: flat start, trapezoids, drop after the last point") {
  CHECK(coverage({}) == 0.0);
  // One point (0.5, 0.6): a rectangle 0.5 x 0.6.
  CHECK(coverage({{0.5, 0.6}}) == Approx(0.3));
  // (0.2, 0.8), (0.6, 0.4), (1, 0): 0.2*0.8 + 0.4*(0.8+0.4)/2 + 0.4*(0.4+0)/2 = 0.16 + 0.24 + 0.08.
  CHECK(coverage({{0.6, 0.4}, {0.2, 0.8}, {1.0, 0.0}}) == Approx(0.48));
  // Dominated points change nothing.
  CHECK(coverage({{0.6, 0.4}, {0.2, 0.8}, {1.0, 0.0}, {0.5, 0.3}}) == Approx(0.48));
  // The ideal corner covers the whole square.
  CHECK(coverage({{1.0, 1.0}}) == Approx(1.0));
}

TEST_CASE("dominance: midpoints per axis, harmonic mean, ties and a single method") {
  // Method A owns (0.2, 0.8) and (1.0, 0.0); method B owns (0.6, 0.4); C is dominated.
  // x: points 0.2 | 0.6 | 1.0, midpoints 0.4 and 0.8, span 0.8: A owns 0.2 + 0.2, B 0.4.
  // y: same spacing: A 0.5, B 0.5.
  auto d = dominance({{{0.2, 0.8}, {1.0, 0.0}}, {{0.6, 0.4}}, {{0.3, 0.3}}});
  CHECK(d[0].dom_q == Approx(0.5));
  CHECK(d[1].dom_q == Approx(0.5));
  CHECK(d[0].dom_d == Approx(0.5));
  CHECK(d[1].dom == Approx(0.5));
  CHECK(d[2].dom == 0.0);
  // Uneven spacing: points x = 0, 0.2, 1 (y = 1, 0.9, 0): A = {0, 1}, B = {0.2}.
  // x: midpoints 0.1, 0.6: A 0.1 + 0.4 = 0.5, B 0.5. y sorted 0, 0.9, 1: midpoints 0.45, 0.95:
  // A (y = 0 and 1) 0.45 + 0.05 = 0.5, B 0.5.
  auto e = dominance({{{0, 1}, {1, 0}}, {{0.2, 0.9}}});
  CHECK(e[0].dom_q == Approx(0.5));
  CHECK(e[1].dom_q == Approx(0.5));
  CHECK(e[0].dom_d == Approx(0.5));
  // Asymmetric: A = {(0, 1)}, B = {(0.5, 0.1), (1, 0)}; x midpoints 0.25, 0.75: A 0.25, B 0.75;
  // y sorted 0, 0.1, 1: midpoints 0.05, 0.55: A 0.45, B 0.55. Dom_A = 2*0.25*0.45/0.7.
  auto g = dominance({{{0, 1}}, {{0.5, 0.1}, {1, 0}}});
  CHECK(g[0].dom_q == Approx(0.25));
  CHECK(g[0].dom_d == Approx(0.45));
  CHECK(g[0].dom == Approx(2 * 0.25 * 0.45 / 0.7));
  CHECK(g[1].dom == Approx(2 * 0.75 * 0.55 / 1.3));
  // Ties: both methods reach the same frontier points: they share everything equally.
  auto t = dominance({{{0.2, 0.8}, {0.8, 0.2}}, {{0.8, 0.2}, {0.2, 0.8}}});
  CHECK(t[0].dom == Approx(0.5));
  CHECK(t[1].dom == Approx(0.5));
  // A single method owns the whole frontier; a single frontier point owns both axes.
  auto s = dominance({{{0.1, 0.9}, {0.5, 0.5}, {0.3, 0.2}}});
  CHECK(s[0].dom == Approx(1.0));
  auto one = dominance({{{0.5, 0.5}}, {{0.4, 0.4}}});
  CHECK(one[0].dom == Approx(1.0));
  CHECK(one[1].dom == 0.0);
  // No points at all.
  CHECK(dominance({{}, {}})[0].dom == 0.0);
}

TEST_CASE("spaces from JSON, averaged over spaces") {
  auto spaces = parse_spaces_json(R"({"spaces": [
      {"name": "s1", "anchors": {"x_min": 0, "x_max": 1, "y_min": 0, "y_max": 1},
       "methods": {"baco": [[0.5, 0.6]], "temp": [[0.2, 0.2], [5, 5]]}},
      {"name": "s2", "base": [0, 1], "aligned": [1, 0.5], "bound": 0, "higher_is_better": false,
       "methods": {"temp": [[1, 0]], "baco": [[2, 0]]}}]})",
                                  "t.json");
  REQUIRE(spaces.size() == 2);
  CHECK(spaces[0].methods[0].name == "baco");  // file order kept
  auto s = evaluate_spaces(spaces);
  REQUIRE(s.mean.size() == 2);
  CHECK(s.spaces[0].methods[1].kept_points == 1);  // (5, 5) is outside
  // s1: baco 0.3, temp 0.04 (dominated by baco: Dom 0); s2: y_min = 0 (bound), y_max = 0.5:
  // temp's (1, 0) -> (1, 1): coverage 1, Dom 1; baco's point is outside (x = 2).
  CHECK(s.mean[0].name == "baco");
  CHECK(s.mean[0].coverage == Approx((0.3 + 0.0) / 2));
  CHECK(s.mean[1].coverage == Approx((0.04 + 1.0) / 2));
  CHECK(s.mean[0].dominance.dom == Approx(0.5));
  CHECK(s.mean[1].dominance.dom == Approx(0.5));
  CHECK_THROWS_AS(parse_spaces_json("{", "t.json"), FormatError);
  CHECK_THROWS_AS(parse_spaces_json(R"({"name": "x", "methods": {}})", "t.json"), FormatError);
  CHECK_THROWS_AS(parse_spaces_json(R"({"anchors": {"x_min": 0}, "methods": {}})", "t.json"), FormatError);
  CHECK_THROWS_AS(parse_spaces_json(R"({"base": [0, 0], "aligned": [1, 1], "bound": 2, "methods": {"m": [[1]]}})",
                                    "t.json"),
                  FormatError);
  auto svg = controllability_svg(spaces);
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("baco") != std::string::npos);
  CHECK(svg.find("</svg>") != std::string::npos);
}
