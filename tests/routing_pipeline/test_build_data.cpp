// Resumable building of a routing table, with a stand-in sampler and scorer (no model).
#include <catch2/catch.hpp>

#include <fstream>

#include "breadth/error.hpp"
#include "breadth/router_pipeline.hpp"
#include "routing_pipeline/pipeline_test_util.hpp"

using namespace breadth;

TEST_CASE("build_routing_data computes missing cells only and survives a torn line", "[routing][build]") {
  auto path = test::pipeline_scratch_dir("build") + "/built.jsonl";
  std::vector<std::pair<std::string, std::string>> qs = {{"a", "first?"}, {"b", "second?"}};
  std::vector<std::string> calls;
  AnswerSampler sample = [&](const std::string& q, const std::string& m) {
    calls.push_back(m + "/" + q);
    return std::vector<std::string>{m + ":" + q, "x"};
  };
  SetScorer score = [](const std::string&, const std::vector<std::string>& a) {
    return SetFigures{static_cast<double>(a.size()), 1, 1, 0.5};
  };
  // stop after 3 of 4 cells (model-major order: m1/a, m1/b, m2/a)
  BuildDataOptions o;
  o.on_progress = [](int64_t done, int64_t total, const std::string&) { return done < 3; };
  CHECK_THROWS_AS(build_routing_data(qs, {"m1", "m2"}, sample, score, path, o), Cancelled);
  CHECK(calls == std::vector<std::string>{"m1/first?", "m1/second?", "m2/first?"});
  // simulate a crash in the middle of writing a fourth row
  { std::ofstream(path, std::ios::app) << R"({"query_id":"b","query":"second?","mod)"; }
  calls.clear();
  CHECK(build_routing_data(qs, {"m1", "m2"}, sample, score, path) == 1);
  CHECK(calls == std::vector<std::string>{"m2/second?"});
  auto t = load_routing_table(path);
  CHECK(t.num_queries() == 2);
  CHECK(t.num_models() == 2);
  CHECK(t.answers[1][1] == std::vector<std::string>{"m2:second?", "x"});
  CHECK(t.unq[0][0].item<double>() == 2);
  // nothing left to do
  CHECK(build_routing_data(qs, {"m1", "m2"}, sample, score, path) == 0);
  // corruption in the middle is refused, not repaired
  { std::ofstream(path, std::ios::app) << "garbage\n"; }
  CHECK_THROWS_AS(build_routing_data(qs, {"m1", "m2", "m3"}, sample, score, path), FormatError);
}

TEST_CASE("candidate pools are named by checkpoint base names; prompts files", "[routing][pipeline]") {
  CHECK(pool_model_name("/m/Qwen3-8B") == "Qwen3-8B");
  CHECK(pool_model_name("/m/Qwen3-8B//") == "Qwen3-8B");
  CHECK(pool_model_name("olmo-7b.gguf") == "olmo-7b");
  CHECK(pool_model_name("a/.gguf") == ".gguf");  // nothing left without the suffix: kept whole
  auto pool = make_model_pool({"x/alpha", "y/beta.gguf"});
  CHECK(pool.names == std::vector<std::string>{"alpha", "beta"});
  CHECK(pool.path("beta") == "y/beta.gguf");
  CHECK(pool.contains("alpha"));
  CHECK_FALSE(pool.contains("gamma"));
  CHECK_THROWS_AS(pool.path("gamma"), InvalidArgument);
  CHECK_THROWS_WITH(make_model_pool({"x/alpha", "y/alpha/"}), Catch::Contains("alpha"));

  auto dir = test::pipeline_scratch_dir("prompts");
  {
    std::ofstream(dir + "/p.jsonl") << R"({"id": "a", "prompt": "first?"})" << "\n\n"
                                    << R"({"query_id": "b", "query": "second?"})" << "\n"
                                    << R"({"text": "third?"})" << "\n";
  }
  using Prompts = std::vector<std::pair<std::string, std::string>>;
  CHECK(load_prompts(dir + "/p.jsonl") == Prompts{{"a", "first?"}, {"b", "second?"}, {"line-4", "third?"}});
  CHECK(load_prompts(dir + "/p.jsonl", 2) == Prompts{{"a", "first?"}, {"b", "second?"}});
  { std::ofstream(dir + "/bad.jsonl") << R"({"id": "a"})" << "\n"; }
  CHECK_THROWS_WITH(load_prompts(dir + "/bad.jsonl"), Catch::Contains("bad.jsonl:1"));
  { std::ofstream(dir + "/empty.jsonl") << "\n"; }
  CHECK_THROWS_AS(load_prompts(dir + "/empty.jsonl"), InvalidArgument);
  CHECK_THROWS_AS(load_prompts(dir + "/none.jsonl"), IoError);
}
