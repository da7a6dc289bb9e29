// The real SmolLM2-135M-Instruct (GGUF Q4_1) collects a B = 20 generate-all answer set. What the
// answers say is not checked (a 135M model), only that they are parsed out of its output, non-empty,
// attributed to the model, and that the report adds up.
#include <fstream>

#include "breadth/answer_set.hpp"
#include "breadth/model.hpp"
#include "common/test_env.hpp"
// Last: libtorch's logging header defines its own CHECK, which Catch's must override.
#include <catch2/catch.hpp>

using namespace breadth;

TEST_CASE("SmolLM2-135M-Instruct collects a B = 20 answer set with the generate-all prompt") {
  const std::string path = breadth::test::models_dir() + "/smollm2-135m-instruct.gguf";
  if (!std::ifstream(path).good()) {
    WARN("skipped: " << path << " is missing (run scripts/setup.sh)");
    return;
  }
  std::shared_ptr<const CausalLM> model = CausalLM::load(path);
  Question q;
  q.text = "Name a Spanish speaking country.";
  AnswerSetOptions opt;
  opt.budget = 20;
  opt.batch = 4;
  opt.max_generations = 16;
  opt.generation.max_new_tokens = 160;
  opt.generation.seed = 1;
  auto set = collect_answers({model}, q, opt);
  const auto& r = set.models.at(0);
  INFO("generations " << r.generations << ", unparsable " << r.failed_generations);
  for (const auto& f : r.failures) INFO("failure: " << f);
  CHECK(set.complete);
  CHECK(set.answers.size() == 20u);
  CHECK(r.collected == 20);
  CHECK(r.generated_tokens > 0);
  for (const auto& a : set.answers) {
    CHECK(!a.text.empty());
    CHECK(a.model == 0);
    CHECK(a.generation >= 0);
    CHECK(a.generation < r.generations);
  }
}
