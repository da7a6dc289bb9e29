// Routing tables (JSONL <-> [Q, M]), splits and budget splits.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fstream>
#include <set>

#include "breadth/error.hpp"
#include "common/test_env.hpp"
#include "routing/routing_test_util.hpp"

using namespace breadth;

namespace {
std::string tmp_file(const std::string& name, const std::string& text) {
  static const std::string dir = test::scratch_dir("tables");
  auto p = files::join(dir, name);
  std::ofstream(p) << text;
  return p;
}
}  // namespace

TEST_CASE("routing rows round-trip through JSONL", "[routing][table]") {
  RoutingRow r{"7", "Name a \"color\"\n", "qwen", {12, 3.5, 4.25, 0.125}, {"red", "bl\xc3\xa9u"}};
  auto back = parse_routing_row(routing_row_json(r));
  CHECK(back.query_id == "7");
  CHECK(back.query == r.query);
  CHECK(back.model == "qwen");
  CHECK(back.figures.unq == 12);
  CHECK(back.figures.qual == 3.5);
  CHECK(back.figures.unq_qual == 4.25);
  CHECK(back.figures.div_cov == 0.125);
  CHECK(back.answers == r.answers);
  // integer query ids are accepted and answers are optional
  auto r2 = parse_routing_row(R"({"query_id": 3, "query": "q", "model": "m", "div_cov": 0.5, "unq": 1,
                                  "qual": 2, "unq_qual": 3})");
  CHECK(r2.query_id == "3");
  CHECK(r2.answers.empty());
}

TEST_CASE("malformed rows give FormatError naming the place", "[routing][table]") {
  CHECK_THROWS_AS(parse_routing_row("{not json", "f.jsonl:3"), FormatError);
  CHECK_THROWS_WITH(parse_routing_row(R"({"query_id":"a","query":"q","model":"m","unq":1,"qual":1,"unq_qual":1})",
                                      "f.jsonl:3"),
                    Catch::Contains("f.jsonl:3") && Catch::Contains("div_cov"));
  CHECK_THROWS_AS(parse_routing_row(R"([1,2])"), FormatError);
  CHECK_THROWS_AS(parse_routing_row(R"({"query_id":"a","query":"q","model":"m","div_cov":"x","unq":1,"qual":1,"unq_qual":1})"),
                  FormatError);
  CHECK_THROWS_AS(parse_routing_row(R"({"query_id":"a","query":"q","model":"m","div_cov":1,"unq":1,"qual":1,"unq_qual":1,"answers":[1]})"),
                  FormatError);
}

TEST_CASE("rows group into [Q, M] with a consistent model order", "[routing][table]") {
  std::string text;
  // model order of first appearance: b, a; query order: x, y
  auto line = [](const char* q, const char* m, double dc) {
    return fmt::format(R"({{"query_id":"{}","query":"text {}","model":"{}","div_cov":{},"unq":{},"qual":1,"unq_qual":2}})",
                       q, q, m, dc, dc * 10) + "\n";
  };
  text = line("x", "b", 0.2) + line("y", "a", 0.7) + "\n" + line("x", "a", 0.4) + line("y", "b", 0.1);
  auto path = tmp_file("t1.jsonl", text);
  auto t = load_routing_table(path);
  REQUIRE(t.models == std::vector<std::string>{"b", "a"});
  REQUIRE(t.query_ids == std::vector<std::string>{"x", "y"});
  CHECK(t.queries[1] == "text y");
  CHECK(t.div_cov[0][0].item<double>() == 0.2);
  CHECK(t.div_cov[0][1].item<double>() == 0.4);
  CHECK(t.div_cov[1][0].item<double>() == 0.1);
  CHECK(t.div_cov[1][1].item<double>() == 0.7);
  CHECK(t.unq[1][1].item<double>() == Approx(7.0));
  CHECK_FALSE(t.has_answers());
  // a fixed pool reorders the columns
  auto t2 = load_routing_table(path, {{"a", "b"}, false});
  CHECK(t2.div_cov[0][0].item<double>() == 0.4);
  CHECK(t2.div_cov[1][1].item<double>() == 0.1);
  // a model outside the pool, a missing cell, a duplicate cell
  CHECK_THROWS_WITH(load_routing_table(path, {{"a"}, false}), Catch::Contains("'b'") && Catch::Contains("pool"));
  auto missing = tmp_file("t2.jsonl", line("x", "a", 0.1) + line("x", "b", 0.2) + line("y", "a", 0.3));
  CHECK_THROWS_WITH(load_routing_table(missing), Catch::Contains("'y'") && Catch::Contains("'b'"));
  auto dropped = load_routing_table(missing, {{}, true});
  CHECK(dropped.query_ids == std::vector<std::string>{"x"});
  auto dup = tmp_file("t3.jsonl", line("x", "a", 0.1) + line("x", "a", 0.2));
  CHECK_THROWS_AS(load_routing_table(dup), InvalidArgument);
  auto bad = tmp_file("t4.jsonl", line("x", "a", 0.1) + "{oops\n");
  CHECK_THROWS_WITH(load_routing_table(bad), Catch::Contains("t4.jsonl:2"));
  CHECK_THROWS_AS(load_routing_table("/nonexistent/table.jsonl"), IoError);
  CHECK_THROWS_AS(load_routing_table(tmp_file("empty.jsonl", "\n")), FormatError);
}

TEST_CASE("select keeps rows in the order asked", "[routing][table]") {
  auto t = test::table_from({{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}});
  auto s = t.select({2, 0});
  CHECK(s.query_ids == std::vector<std::string>{"q2", "q0"});
  CHECK(s.div_cov[0][1].item<double>() == 0.6);
  CHECK(s.figures(1, 0).div_cov == 0.1);
  CHECK_THROWS_AS(t.select({3}), InvalidArgument);
}

TEST_CASE("splits are 70/10/20, disjoint, complete and seeded", "[routing][split]") {
  auto s = split_queries(1000, 42);
  CHECK(s.train.size() == 700);
  CHECK(s.val.size() == 100);
  CHECK(s.test.size() == 200);
  std::set<int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  all.insert(s.test.begin(), s.test.end());
  CHECK(all.size() == 1000);
  CHECK(*all.begin() == 0);
  CHECK(*all.rbegin() == 999);
  auto again = split_queries(1000, 42);
  CHECK(again.test == s.test);
  CHECK(split_queries(1000, 43).test != s.test);
  auto small = split_queries(7, 1);  // round(4.9) = 5, round(0.7) = 1, rest 1
  CHECK(small.train.size() == 5);
  CHECK(small.val.size() == 1);
  CHECK(small.test.size() == 1);
  CHECK_THROWS_AS(split_queries(0, 1), InvalidArgument);
  CHECK_THROWS_AS(split_queries(10, 1, 0.9, 0.2), InvalidArgument);
}

TEST_CASE("budget splits: even with remainder first, or by ratios", "[routing][split]") {
  CHECK(route_budgets(50, 2) == std::vector<int64_t>{25, 25});
  CHECK(route_budgets(51, 2) == std::vector<int64_t>{26, 25});
  CHECK(route_budgets(10, 3) == std::vector<int64_t>{4, 3, 3});
  CHECK(route_budgets(50, 2, {0.4, 0.1}) == std::vector<int64_t>{40, 10});
  CHECK(route_budgets(50, 2, {3, 7}) == std::vector<int64_t>{15, 35});
  // 10 * (1/3, 1/3, 1/3): floors 3,3,3, one left over goes to the first (equal remainders)
  CHECK(route_budgets(10, 3, {1, 1, 1}) == std::vector<int64_t>{4, 3, 3});
  // 7 * (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3,2,1, the extra one to the largest remainder (0.5)
  CHECK(route_budgets(7, 3, {0.5, 0.3, 0.2}) == std::vector<int64_t>{4, 2, 1});
  CHECK_THROWS_AS(route_budgets(10, 0), InvalidArgument);
  CHECK_THROWS_AS(route_budgets(10, 2, {1}), InvalidArgument);
  CHECK_THROWS_AS(route_budgets(10, 2, {0, 0}), InvalidArgument);
  CHECK_THROWS_AS(route_budgets(10, 2, {-1, 2}), InvalidArgument);
}
