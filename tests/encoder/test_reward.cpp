// A tiny LlamaForSequenceClassification reward model with the Llama-3.1 tokenizer and chat template:
// the rendered conversation, its ids and the score equal transformers' (make_tiny_encoders.py).
#include "breadth/encoder.hpp"
#include "encoder_test_util.hpp"

using namespace breadth;
using breadth::test::read_json_file;
using breadth::test::tiny_encoder;

TEST_CASE("reward model scores the chat-rendered [user, assistant] conversation as transformers does",
          "[encoder][reward]") {
  auto ref = read_json_file(tiny_encoder("reward.json"));
  auto model = CausalLM::load(tiny_encoder("reward"));
  REQUIRE(model->config().num_labels == 1);
  auto tok = model->tokenizer();
  REQUIRE(tok != nullptr);
  const std::string prompt = ref["prompt"];
  std::vector<std::string> answers;
  std::vector<double> want;
  for (const auto& row : ref["rows"]) {
    answers.push_back(row["answer"].get<std::string>());
    want.push_back(row["score"].get<double>());
    const std::string text = render_reward_conversation(*tok, prompt, row["answer"].get<std::string>());
    CHECK(text == row["text"].get<std::string>());
    CHECK(tok->encode(text, false) == row["ids"].get<std::vector<int32_t>>());
  }
  // The scores differ from each other, so a model that ignored the answer could not pass.
  REQUIRE(std::abs(want[2] - want[0]) > 0.1);
  for (int64_t batch : {1, 2, 8}) {
    auto rm = make_reward_model(model, batch);
    auto got = rm->rewards(prompt, answers);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-4));
  }
  CHECK(make_reward_model(model)->rewards(prompt, {}).empty());
}

TEST_CASE("reward model rejects a checkpoint without a scalar head", "[encoder][reward]") {
  CHECK_THROWS_AS(make_reward_model(nullptr), InvalidArgument);
  auto model = CausalLM::load(tiny_encoder("reward"));
  CHECK_THROWS_AS(make_reward_model(model, 0), InvalidArgument);
}
