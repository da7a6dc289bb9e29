// A real run: SmolLM2-135M-Instruct (GGUF) as the aligned model under its chat template and the same
// weights as the "base" model on the plain prompt. Ten samples of a NoveltyBench prompt with p-punc
// at several thresholds: the base model's share of tokens rises with gamma.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "breadth/baco.hpp"
#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "common/test_env.hpp"

using namespace breadth;

TEST_CASE("SmolLM2: base share rises with gamma under p-punc") {
  auto path = breadth::test::models_dir() + "/smollm2-135m-instruct.gguf";
  if (!std::ifstream(path).good()) {
    WARN("skipped: " << path << " not found (run scripts/setup.sh)");
    return;
  }
  std::ifstream in(breadth::test::shared_dir() + "/data/noveltybench/curated.jsonl");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);
  auto prompt = nlohmann::json::parse(line).at("prompt").get<std::string>();

  auto model = CausalLM::load(path);
  BacoDecoder dec(model, model);  // one set of weights, two roles (plain prompt vs chat template)
  REQUIRE(dec.shared_vocabulary());
  // The two prompts differ: only the aligned role gets the chat template.
  BacoOptions o;
  o.num_samples = 10;
  o.max_new_tokens = 12;
  o.seed = 1234;
  auto a_ids = dec.aligned_prompt(prompt, o), b_ids = dec.base_prompt(prompt, o);
  CHECK(a_ids.size() > b_ids.size() + 3);
  CHECK(model->tokenizer()->decode(b_ids, true) == prompt);

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
