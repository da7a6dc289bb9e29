// A real run: SmolLM2-135M-Instruct (GGUF) as the aligned model under its chat template and the same
// weights as the "base" model on the plain shifting template ("PROMPT\n", BACO Appendix A). Ten
// samples of a NoveltyBench prompt with p-punc at several thresholds: the base model's share of
// tokens rises with gamma. And the demo's symptom (issue 19): on the bare prompt the base model read
// "...a cat.A cat!" and glued words to punctuation; with the newline it does not.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "breadth/baco.hpp"
#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "common/require_input.hpp"
#include "common/test_env.hpp"

using namespace breadth;

namespace {

std::shared_ptr<CausalLM> smollm2() {
  static std::shared_ptr<CausalLM> model = [] {
    auto path = breadth::test::models_dir() + "/smollm2-135m-instruct.gguf";
    return std::ifstream(path).good() ? CausalLM::load(path) : nullptr;
  }();
  return model;
}

}  // namespace

TEST_CASE("SmolLM2: base share rises with gamma under p-punc") {
  if (!BREADTH_REQUIRE_INPUT(breadth::test::models_dir() + "/smollm2-135m-instruct.gguf")) return;
  std::ifstream in(breadth::test::shared_dir() + "/data/noveltybench/curated.jsonl");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  auto prompt = nlohmann::json::parse(line).at("prompt").get<std::string>();

  auto model = smollm2();
  BacoDecoder dec(model, model);  // one set of weights, two roles (shifting vs chat template)
  REQUIRE(dec.shared_vocabulary());
  // The two prompts differ: only the aligned role gets the chat template.
  BacoOptions o;
  o.num_samples = 10;
  o.max_new_tokens = 12;
  o.seed = 1234;
  auto a_ids = dec.aligned_prompt(prompt, o), b_ids = dec.base_prompt(prompt, o);
  CHECK(a_ids.size() > b_ids.size() + 3);
  CHECK(model->tokenizer()->decode(b_ids, true) == prompt + "\n");

  auto pts = dec.sweep({prompt}, "p-punc", {0.0, 0.3, 0.6, 1.0}, o);
  REQUIRE(pts.size() == 4);
  std::vector<double> share;
  for (const auto& p : pts) {
    share.push_back(p.result.summary.base_share);
    for (const auto& s : p.result.samples) {
      REQUIRE(!s.tokens.empty());
      CHECK(s.tokens[0].source == TokenSource::kAligned);
    }
    INFO("gamma " << p.gamma << " base share " << p.result.summary.base_share << " sample 0: "
                  << p.result.samples[0].text);
    CHECK(p.result.summary.samples == 10);
  }
  INFO("shares " << share[0] << " " << share[1] << " " << share[2] << " " << share[3]);
  CHECK(share[0] == 0.0);  // max P_b < 0 never holds
  CHECK(share[1] > share[0]);
  CHECK(share[2] >= share[1] - 0.05);
  CHECK(share[3] > share[1]);
  CHECK(share[3] > 0.3);
}

// Punctuation marks . , ! ? ; : immediately followed by an ASCII letter ("carer?A carer"), counted
// over all marks. No exclusions: a mark inside a number is followed by a digit and never counts; an
// abbreviation or a URL ("e.g.", "example.com") would count, which only makes the bound stricter.
TEST_CASE("SmolLM2: p-punc samples on the default base prompt do not glue words to punctuation") {
  if (!BREADTH_REQUIRE_INPUT(breadth::test::models_dir() + "/smollm2-135m-instruct.gguf")) return;
  auto model = smollm2();
  REQUIRE(model);
  std::ifstream in(breadth::test::shared_dir() + "/data/noveltybench/curated.jsonl");
  REQUIRE(in.good());
  std::vector<std::string> prompts;
  for (std::string line; prompts.size() < 8 && std::getline(in, line);)
    if (!line.empty()) prompts.push_back(nlohmann::json::parse(line).at("prompt").get<std::string>());
  REQUIRE(prompts.size() == 8);

  BacoDecoder dec(model, model);
  BacoOptions o;
  o.num_samples = 5;
  o.max_new_tokens = 40;
  o.seed = 19;
  auto result = dec.generate(prompts, "p-punc:0.6", o);
  REQUIRE(result.samples.size() == 40);
  int marks = 0, glued = 0;
  std::string examples;
  for (const auto& s : result.samples) {
    const std::string& t = s.text;
    for (size_t i = 0; i < t.size(); ++i) {
      if (std::string_view(".,!?;:").find(t[i]) == std::string_view::npos) continue;
      ++marks;
      if (i + 1 < t.size() && std::isalpha(static_cast<unsigned char>(t[i + 1]))) {
        ++glued;
        examples += "\n  ..." + t.substr(i >= 20 ? i - 20 : 0, 40);
      }
    }
  }
  INFO(glued << " of " << marks << " punctuation marks glued to a letter; base share "
             << result.summary.base_share << examples);
  CHECK(result.summary.base_share > 0.0);  // the base model did write part of the text
  REQUIRE(marks >= 40);
  CHECK(glued * 50 < marks);  // under 2%
  WARN(glued << " of " << marks << " punctuation marks glued (base share " << result.summary.base_share
             << ")");
}
