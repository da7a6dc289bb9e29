// The experiment file and its pieces without models: parsing and validation (each error names its
// key), points and sweeps, prompt sets with bad lines, shards, and the resolved form's round trip.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "breadth/error.hpp"
#include "breadth/experiment.hpp"
#include "common/test_env.hpp"
#include "core/files.hpp"
#include "experiment/internal.hpp"

using namespace breadth;
using Json = nlohmann::ordered_json;

namespace {

std::string scratch() {
  const std::string dir = files::join(test::binary_dir(), "experiment-file-test");
  test::remove_tree(dir);
  files::make_dirs(dir);
  files::make_dirs(files::join(dir, "ckpt"));  // parse only checks that a checkpoint exists
  files::write_file(files::join(dir, "prompts.jsonl"),
                    "{\"id\": \"a\", \"prompt\": \"Name a fruit.\"}\n\n{\"id\": \"b\", \"prompt\": \"Name a color.\"}\n"
                    "{\"id\": \"c\", \"prompt\": \"Name a bird.\"}\n");
  return dir;
}

Json base_file() {
  return Json::parse(R"({"prompts": "prompts.jsonl", "n": 4, "max_new_tokens": 8, "seed": 3,
    "models": {"m": "ckpt", "b": {"path": "ckpt", "dtype": "bfloat16"}},
    "methods": [{"name": "aligned", "kind": "sample", "model": "m", "temperature": [0.5, 1.0]},
                {"name": "baco", "kind": "baco", "base": "b", "aligned": "m", "gamma": [0.3, 0.6]},
                {"name": "le", "kind": "logit_ensemble", "base": "b", "aligned": "m", "w": 0.25},
                {"name": "dbs", "kind": "diverse_beam", "model": "m", "groups": 2, "penalty": [0, 0.5]}],
    "evaluate": {"metrics": ["distinct_2", "self_bleu"], "anchors": {"base": "baco@0.3", "aligned": "aligned@1.0"}}})");
}

std::string error_of(const Json& j, const std::string& dir) {
  try {
    parse_experiment(j.dump(), dir);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("an experiment file parses into its methods and points", "[experiment]") {
  const std::string dir = scratch();
  auto spec = parse_experiment(base_file().dump(), dir);
  CHECK(spec.n == 4);
  CHECK(spec.models.size() == 2);
  CHECK(spec.models[1].dtype == "bfloat16");
  CHECK(spec.models[1].weights == "native");  // ModelOptions' default
  CHECK(spec.prompts == files::join(dir, "prompts.jsonl"));
  // Defaults are the library's: T = 1, top-p 1 for sample; BACO Appendix D's top-p 0.9 for baco.
  CHECK(spec.methods[0].sampling.top_p == 1.0);
  CHECK(spec.methods[1].sampling.top_p == 0.9);
  CHECK(spec.methods[1].rule == "p-punc");
  CHECK(spec.methods[2].numbers.at("w") == 0.25);
  CHECK(spec.methods[3].numbers.at("groups") == 2);
  std::vector<std::string> names;
  for (const auto& p : experiment_points(spec)) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"aligned@0.5", "aligned@1.0", "baco@0.3", "baco@0.6", "le", "dbs@0", "dbs@0.5"});
  // The resolved form parses back to itself (resumed runs compare it byte for byte).
  const auto resolved = resolved_experiment_json(spec);
  CHECK(resolved_experiment_json(parse_experiment(resolved.dump(), "/")).dump() == resolved.dump());
}

TEST_CASE("bad experiment files name the key at fault", "[experiment]") {
  const std::string dir = scratch();
  auto with = [&](auto edit) {
    Json j = base_file();
    edit(j);
    return error_of(j, dir);
  };
  CHECK_THAT(with([](Json& j) { j["temprature"] = 1; }), Catch::Contains("unknown key 'temprature'"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["temprature"] = 1; }),
             Catch::Contains("experiment.methods[0]: unknown key 'temprature'"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["model"] = "nope"; }),
             Catch::Contains("methods[0].model: no model named 'nope'"));
  CHECK_THAT(with([](Json& j) { j["methods"][1]["gamma"] = Json::array({0.3, "x"}); }),
             Catch::Contains("methods[1].gamma[1]: expected a number"));
  CHECK_THAT(with([](Json& j) { j["methods"][1]["rule"] = "nonsense"; }), Catch::Contains("nonsense"));
  CHECK_THAT(with([](Json& j) { j["methods"][2]["w"] = 1.5; }), Catch::Contains("w must be in [0, 1]"));
  CHECK_THAT(with([](Json& j) { j["methods"][3]["groups"] = 3; }), Catch::Contains("divides n = 4"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["kind"] = "magic"; }), Catch::Contains("unknown kind 'magic'"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["top_p"] = Json::array({0.5}); }),
             Catch::Contains("sweeps 'temperature' and 'top_p'"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["temperature"] = -1; }), Catch::Contains("temperature"));
  CHECK_THAT(with([](Json& j) { j["methods"][1]["name"] = "aligned"; }), Catch::Contains("'aligned' is used twice"));
  CHECK_THAT(with([](Json& j) { j["methods"][0]["name"] = "a/b"; }), Catch::Contains("methods[0].name"));
  CHECK_THAT(with([](Json& j) { j["models"]["m"] = "missing-dir"; }), Catch::Contains("models.m: checkpoint"));
  CHECK_THAT(with([](Json& j) { j["models"]["b"]["dtype"] = "int3"; }), Catch::Contains("models.b.dtype"));
  CHECK_THAT(with([](Json& j) { j["models"]["b"]["weights"] = "int4"; }), Catch::Contains("models.b.weights"));
  CHECK_THAT(with([](Json& j) { j["prompts"] = "none.jsonl"; }), Catch::Contains("experiment.prompts: no file"));
  CHECK_THAT(with([](Json& j) { j["n"] = 0; }), Catch::Contains("experiment.n: must be >= 1"));
  CHECK_THAT(with([](Json& j) { j["evaluate"]["metrics"] = Json::array({"distinct_x"}); }),
             Catch::Contains("evaluate.metrics[0]: unknown metric 'distinct_x'"));
  CHECK_THAT(with([](Json& j) { j["evaluate"]["anchors"]["base"] = "baco@0.9"; }),
             Catch::Contains("evaluate.anchors.base: no point named 'baco@0.9'"));
  CHECK_THAT(with([](Json& j) { j["evaluate"]["spaces"] = Json::parse(R"([{"quality": "qual", "diversity": "zzz"}])"); }),
             Catch::Contains("evaluate.spaces[0].diversity: unknown figure 'zzz'"));
  CHECK_THAT(error_of(Json::parse("[1]"), dir), Catch::Contains("expected a JSON object"));
  CHECK_THROWS_WITH(parse_experiment("{\"prompts\": ", dir), Catch::Contains("not valid JSON"));
  // A number too large for a double is nlohmann's out_of_range, not a parse_error (found by
  // fuzz_experiment): still a clear error, never an escaping exception.
  CHECK_THROWS_AS(parse_experiment("{\"n\": 777777e00000000000000000000000000031203651324448312}", dir),
                  InvalidArgument);
  CHECK_THROWS_WITH(parse_experiment("{\"n\": 1e999999}", dir), Catch::Contains("not valid JSON"));
  CHECK_THROWS_AS(load_experiment(files::join(dir, "absent.json")), IoError);
}

TEST_CASE("prompt sets: JSONL with bad lines reported by number, plain text, limits", "[experiment]") {
  const std::string dir = scratch();
  const std::string jsonl = files::join(dir, "mixed.jsonl");
  files::write_file(jsonl,
                    "{\"id\": \"x\", \"prompt\": \"one\"}\nnot json\n{\"id\": \"y\"}\n{\"id\": \"x\", \"prompt\": \"dup\"}\n"
                    "{\"query_id\": 7, \"query\": \"two\"}\n");
  auto set = load_prompt_set(jsonl);
  CHECK(set.ids == std::vector<std::string>{"x", "7"});
  CHECK(set.prompts == std::vector<std::string>{"one", "two"});
  REQUIRE(set.skipped.size() == 3);
  CHECK_THAT(set.skipped[0], Catch::Contains("mixed.jsonl:2"));
  CHECK_THAT(set.skipped[1], Catch::Contains("mixed.jsonl:3"));
  CHECK_THAT(set.skipped[2], Catch::Contains("mixed.jsonl:4: id 'x'"));
  const std::string text = files::join(dir, "plain.txt");
  files::write_file(text, "First prompt\r\n\nSecond prompt\nThird\n");
  set = load_prompt_set(text, 2);
  CHECK(set.ids == std::vector<std::string>{"line-1", "line-3"});
  CHECK(set.prompts == std::vector<std::string>{"First prompt", "Second prompt"});
  files::write_file(text, "\n\n");
  CHECK_THROWS_AS(load_prompt_set(text), InvalidArgument);
  CHECK_THROWS_AS(load_prompt_set(files::join(dir, "absent.txt")), IoError);
}

TEST_CASE("shards own every block exactly once", "[experiment]") {
  auto s = Shard::parse("1/3");
  CHECK(s.index == 1);
  CHECK(s.count == 3);
  CHECK(s.owns_block(1));
  CHECK(s.owns_block(4));
  CHECK_FALSE(s.owns_block(2));
  for (const char* bad : {"3/3", "1", "/2", "a/b", "0/0", "-1/2", "1/2/3"})
    CHECK_THROWS_WITH(Shard::parse(bad), Catch::Contains("--shard"));
}

TEST_CASE("torn JSONL lines are cut, and files cut to a line count", "[experiment]") {
  const std::string dir = scratch();
  const std::string path = files::join(dir, "log.jsonl");
  files::write_file(path, "{\"a\":1}\n{\"b\":2}\n{\"c\"");
  CHECK(jsonl::repair_and_read(path) == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  CHECK(files::read_file(path) == "{\"a\":1}\n{\"b\":2}\n");
  jsonl::truncate_lines(path, 1);
  CHECK(files::read_file(path) == "{\"a\":1}\n");
  jsonl::truncate_lines(path, 5);
  CHECK(files::read_file(path) == "{\"a\":1}\n");
  CHECK(jsonl::repair_and_read(files::join(dir, "absent.jsonl")).empty());
}
