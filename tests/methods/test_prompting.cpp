// In-context resampling, paraphrase prompting and the router paper's prompt variants: the exact texts
// they render, and answers equal to plain generation on those texts.
#include "methods_test_util.hpp"

using namespace methods_test;

namespace {

// The fixture's chat template (tests/baco/make_baco_pairs.py, CHAT), applied by hand.
std::string chat(const std::vector<ChatMessage>& m) {
  std::string s;
  for (const auto& x : m) s += "<|" + x.role + "|>\n" + x.content + "\n";
  return s + "<|assistant|>\n";
}

GenerateOptions one_sample(const MethodOptions& o, int64_t index) {
  GenerateOptions g;
  g.sampling = o.sampling;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.num_samples = 1;
  g.first_sample_index = index;
  return g;
}

}  // namespace

TEST_CASE("in-context resampling renders the documented conversation", "[methods][in_context]") {
  CHECK(std::string(kInContextFollowUp) ==
        "Give another answer to the same request, different from all of your previous answers.");
  auto m = in_context_messages("Name a color.", {"Red.", "Blue."}, kInContextFollowUp);
  REQUIRE(m.size() == 5);
  CHECK(chat(m) == "<|user|>\nName a color.\n<|assistant|>\nRed.\n<|user|>\n" + std::string(kInContextFollowUp) +
                       "\n<|assistant|>\nBlue.\n<|user|>\n" + kInContextFollowUp + "\n<|assistant|>\n");
  const auto& P = pair("shared");
  CHECK(P.aligned->tokenizer()->chat_template()->render(m, true) == chat(m));
}

TEST_CASE("in-context resampling: answer i continues the conversation of answers 0..i-1", "[methods][in_context]") {
  const auto& M = *pair("shared").aligned;
  InContextOptions o;
  o.num_samples = 3;
  o.max_new_tokens = 12;
  o.seed = 4;
  const std::vector<std::string> prompts = {"Name a color.", "Tell me a joke."};
  auto r = in_context(M, prompts, o);
  REQUIRE(r.samples.size() == 6);
  for (size_t p = 0; p < 2; ++p) {
    std::vector<std::string> prev;
    for (int64_t i = 0; i < 3; ++i) {
      auto ids = M.tokenizer()->encode(chat(in_context_messages(prompts[p], prev, kInContextFollowUp)));
      auto ref = generate_ids(M, {ids}, one_sample(o, i)).samples[0];
      const auto& s = r.samples[p * 3 + static_cast<size_t>(i)];
      CHECK(s.tokens == ref.tokens);
      CHECK(s.text == ref.text);
      CHECK(s.sample_index == i);
      CHECK(s.prompt_text == (i == 0 ? prompts[p] : std::string(kInContextFollowUp)));
      prev.push_back(ref.text);
    }
  }
  // Alone or beside another prompt: the same answers.
  auto alone = in_context(M, {prompts[1]}, o);
  for (size_t i = 0; i < 3; ++i) CHECK(alone.samples[i].tokens == r.samples[3 + i].tokens);
  o.follow_up = "  ";
  CHECK_THROWS_WITH(in_context(M, prompts, o), Catch::Contains("options.follow_up"));
}

TEST_CASE("paraphrase prompting: answer i replies to paraphrase i", "[methods][paraphrase]") {
  CHECK(paraphrase_request("Name a color.", kParaphraseInstruction) ==
        "Paraphrase the following request. Keep its meaning and everything it asks for, but use different "
        "words. Reply with the paraphrased request only.\n\nRequest: Name a color.");
  CHECK(clean_paraphrase("  Say a colour.\n", "x") == "Say a colour.");
  CHECK(clean_paraphrase(" \n", "Name a color.") == "Name a color.");
  CHECK_THROWS_WITH(paraphrase_request("p", "no slot"), Catch::Contains("{prompt}"));

  const auto& M = *pair("shared").aligned;
  ParaphraseOptions o;
  o.num_samples = 3;
  o.max_new_tokens = 10;
  o.paraphrase_max_new_tokens = 16;
  o.seed = 8;
  const std::string prompt = "Name a color.";
  auto r = paraphrase(M, {prompt}, o);
  REQUIRE(r.samples.size() == 3);
  GenerateOptions gp;
  gp.sampling = o.sampling;
  gp.num_samples = 3;
  gp.max_new_tokens = 16;
  gp.seed = paraphrase_seed(o.seed);
  auto paras = generate_ids(M, {M.tokenizer()->encode(chat({{"user", paraphrase_request(prompt, kParaphraseInstruction)}}))}, gp);
  for (size_t i = 0; i < 3; ++i) {
    const auto text = clean_paraphrase(paras.samples[i].text, prompt);
    CHECK(r.samples[i].prompt_text == text);
    auto ref = generate_ids(M, {M.tokenizer()->encode(chat({{"user", text}}))}, one_sample(o, static_cast<int64_t>(i)));
    CHECK(r.samples[i].tokens == ref.samples[0].tokens);
  }
  CHECK(r.samples[0].prompt_text != r.samples[1].prompt_text);
}

TEST_CASE("verbalized prompts are the router paper's Figures 13 and 14", "[methods][verbalized]") {
  Question days;
  days.text = "Output all days of the week.";
  days.kind = QuestionKind::kFixed;
  days.item = "day";
  days.items = "days";
  CHECK(verbalized_prompt(days) ==
        "Output all days of the week.\n\nFor each output, also provide a numeric probability of sampling that "
        "output. Please sample at random from the full distribution.\n\nOutput only the days and probabilities "
        "between two curly braces, like this: {(day_1,probability_1), (day_2,probability_2) ...}. Don't output "
        "code.\"");
  Question memoir;
  memoir.text = "I am working on a memoir of a computer science PhD student who worked on machine translation "
                "in the 1990s.";
  const std::string fig14 = R"(I am working on a memoir of a computer science PhD student who worked on machine translation in the 1990s. List all the possible answers you can think of. For each answer, also provide a numeric probability of sampling that answer.

Please use the following format:

```
{
  {
    \"answer-id\": 1,
    \"content\": \"Your answer here\",
    \"probability\": \"The probability of this answer\"
  },
  {
    \"answer-id\": 2,
    \"content\": \"Your answer here\",
    \"probability\": \"The probability of this answer\"
  },
  ...
}
```)";
  CHECK(verbalized_prompt(memoir) == fig14);
  CHECK(std::string(kSystemVanillaPrompt) ==
        "You are a helpful assistant. For each query, please generate all possible responses, each within a "
        "separate <response> tag. Responses should each include a <text>.");

  const auto& M = *pair("shared").aligned;
  PromptVariantOptions o;
  o.num_samples = 2;
  o.max_new_tokens = 8;
  o.seed = 2;
  o.questions = {days};
  auto r = verbalized(M, {days.text}, o);
  REQUIRE(r.samples.size() == 2);
  GenerateOptions g = one_sample(o, 0);
  g.num_samples = 2;
  auto ref = generate_ids(M, {M.tokenizer()->encode(chat({{"user", verbalized_prompt(days)}}))}, g);
  for (size_t i = 0; i < 2; ++i) CHECK(r.samples[i].tokens == ref.samples[i].tokens);
  CHECK(r.samples[0].prompt_text == verbalized_prompt(days));
  o.questions = {days, days};
  CHECK_THROWS_WITH(verbalized(M, {days.text}, o), Catch::Contains("options.questions"));
}

TEST_CASE("system-vanilla answers under the Figure 15 system prompt", "[methods][system_vanilla]") {
  const auto& M = *pair("shared").aligned;
  PromptVariantOptions o;
  o.num_samples = 3;
  o.max_new_tokens = 8;
  o.seed = 6;
  auto r = system_vanilla(M, {"Name a color."}, o);
  GenerateOptions g = one_sample(o, 0);
  g.num_samples = 3;
  const std::string text = chat({{"system", kSystemVanillaPrompt}, {"user", "Name a color."}});
  CHECK(text == "<|system|>\nYou are a helpful assistant. For each query, please generate all possible responses, "
                "each within a separate <response> tag. Responses should each include a <text>.\n<|user|>\nName a "
                "color.\n<|assistant|>\n");
  auto ref = generate_ids(M, {M.tokenizer()->encode(text)}, g);
  for (size_t i = 0; i < 3; ++i) CHECK(r.samples[i].tokens == ref.samples[i].tokens);
  auto rv = system_verbalized(M, {"Name a color."}, o);
  auto refv = generate_ids(M, {M.tokenizer()->encode(chat({{"system", kSystemVerbalizedPrompt}, {"user", "Name a color."}}))}, g);
  for (size_t i = 0; i < 3; ++i) CHECK(rv.samples[i].tokens == refv.samples[i].tokens);
  // A model without a chat template is refused with the fix.
  CHECK_THROWS_WITH(system_vanilla(*pair("shared").base, {"x"}, o), Catch::Contains("options.chat_template"));
}

TEST_CASE("temperature sweep: one point per temperature, each plain sampling", "[methods][sample]") {
  const auto& M = *pair("shared").aligned;
  MethodOptions o;
  o.num_samples = 2;
  o.max_new_tokens = 8;
  auto pts = temperature_sweep(M, {"Name a color."}, {0.0, 0.7, 1.5}, o);
  REQUIRE(pts.size() == 3);
  for (const auto& pt : pts) {
    GenerateOptions g;
    g.sampling = o.sampling;
    g.sampling.temperature = pt.value;
    g.num_samples = 2;
    g.max_new_tokens = 8;
    auto ref = generate(M, {"Name a color."}, g);
    for (size_t i = 0; i < 2; ++i) CHECK(pt.result.samples[i].tokens == ref.samples[i].tokens);
  }
  CHECK(pts[0].result.samples[0].tokens == pts[0].result.samples[1].tokens);  // greedy
  CHECK_THROWS_WITH(temperature_sweep(M, {"x"}, {1.0, -1.0}, o), Catch::Contains("temperature"));
  o.num_samples = 0;
  CHECK_THROWS_WITH(sample(M, {"x"}, o), Catch::Contains("options.num_samples"));
}
