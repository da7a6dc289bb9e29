// The generation loop on a tiny random chat model (fixture: make_sampling_fixture.py): greedy equals
// transformers' greedy generate token for token; n samples from one shared prefill equal n separate
// generations with the same per-sample seeds; stops, callbacks and batch shrinking behave.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

#include "breadth/answer_set.hpp"
#include "breadth/error.hpp"
#include "breadth/model.hpp"
#include "breadth/sampler.hpp"
#include "breadth/tokenizer.hpp"
#include "common/host_syncs.hpp"
#include "common/test_env.hpp"
// Last: libtorch's logging header defines its own CHECK, which Catch's must override.
#include <catch2/catch.hpp>

using namespace breadth;
using Ids = std::vector<int32_t>;

namespace {

const std::string& dir() {
  static const std::string d = breadth::test::fixtures_dir() + "/sampling";
  return d;
}

std::shared_ptr<CausalLM> model() {
  torch::set_num_threads(1);  // a 64-wide model: threads only add OpenMP overhead on a busy machine
  static auto m = CausalLM::load(dir() + "/tiny_chat");
  return m;
}

const nlohmann::json& ref() {
  static nlohmann::json j = [] {
    std::ifstream f(dir() + "/reference.json");
    REQUIRE(f.good());
    return nlohmann::json::parse(f);
  }();
  return j;
}

std::string prompt(size_t i) { return ref()["prompts"][i]["prompt"]; }
Ids ids_of(const nlohmann::json& j) { return j.get<Ids>(); }

// transformers' reference stops at <|im_end|> only; the tokenizer may list more end ids.
GenerateOptions greedy_options() {
  GenerateOptions o;
  o.sampling.temperature = 0;
  o.max_new_tokens = ref()["max_new_tokens"];
  o.stop_at_eos = false;
  o.extra_eos_ids = {ref()["eos_id"].get<int32_t>()};
  return o;
}

GenerateOptions sampling_options(uint64_t seed) {
  GenerateOptions o;
  o.sampling = SamplingOptions{1.2, 0, 0.95, 0.0};
  o.max_new_tokens = 16;
  o.seed = seed;
  return o;
}

}  // namespace

TEST_CASE("prompts are encoded as transformers encodes them") {
  const auto& eos = model()->tokenizer()->eos_ids();
  CHECK(std::find(eos.begin(), eos.end(), ref()["eos_id"].get<int32_t>()) != eos.end());
  for (size_t i = 0; i < ref()["prompts"].size(); ++i) {
    CHECK(encode_prompt(*model(), prompt(i), true) == ids_of(ref()["prompts"][i]["chat_ids"]));
    CHECK(encode_prompt(*model(), prompt(i), false) == ids_of(ref()["prompts"][i]["raw_ids"]));
  }
}

TEST_CASE("greedy equals transformers' greedy generate") {
  std::vector<std::string> prompts;
  for (size_t i = 0; i < ref()["prompts"].size(); ++i) prompts.push_back(prompt(i));
  auto res = generate(*model(), prompts, greedy_options());
  REQUIRE(res.samples.size() == prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto& r = ref()["prompts"][i];
    const auto& s = res.samples[i];
    INFO("prompt " << i);
    CHECK(s.tokens == ids_of(r["greedy_tokens"]));
    CHECK(s.text == r["greedy_text"].get<std::string>());
    auto want_lp = r["greedy_logprobs"].get<std::vector<float>>();
    REQUIRE(s.logprobs.size() == want_lp.size());
    for (size_t t = 0; t < want_lp.size(); ++t) CHECK(s.logprobs[t] == Approx(want_lp[t]).margin(2e-3));
    for (float v : s.sampling_logprobs) CHECK(v == 0.0f);
  }
  // The raw prompt (no chat template).
  auto o = greedy_options();
  o.apply_chat_template = false;
  auto raw = generate(*model(), {prompt(0)}, o);
  CHECK(raw.samples[0].tokens == ids_of(ref()["prompts"][0]["raw_greedy_tokens"]));
}

TEST_CASE("n samples from one shared prefill equal n separate generations") {
  const int64_t n = 6;
  auto o = sampling_options(5);
  o.num_samples = n;
  auto batch = generate(*model(), {prompt(0)}, o);
  REQUIRE(batch.samples.size() == static_cast<size_t>(n));
  CHECK(batch.prompt_tokens == static_cast<int64_t>(ids_of(ref()["prompts"][0]["chat_ids"]).size()));
  int distinct = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto one = sampling_options(5);
    one.first_sample_index = i;
    auto alone = generate(*model(), {prompt(0)}, one);
    const auto& a = alone.samples[0];
    const auto& b = batch.samples[static_cast<size_t>(i)];
    INFO("sample " << i);
    CHECK(b.sample_index == i);
    CHECK(a.tokens == b.tokens);
    CHECK(a.text == b.text);
    REQUIRE(a.logprobs.size() == b.logprobs.size());
    for (size_t t = 0; t < a.logprobs.size(); ++t) CHECK(a.logprobs[t] == Approx(b.logprobs[t]).margin(1e-4));
    if (i > 0 && b.tokens != batch.samples[0].tokens) ++distinct;
  }
  CHECK(distinct >= 3);  // independent samples, not one sequence repeated

  // Several prompts in one batch: each prompt's samples equal that prompt alone.
  auto o3 = sampling_options(5);
  o3.num_samples = 3;
  auto multi = generate(*model(), {prompt(1), prompt(0), prompt(2)}, o3);
  REQUIRE(multi.samples.size() == 9u);
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(multi.samples[static_cast<size_t>(3 + i)].tokens == batch.samples[static_cast<size_t>(i)].tokens);
    CHECK(multi.samples[static_cast<size_t>(3 + i)].prompt_index == 1);
  }
}

TEST_CASE("the same seed gives the same output, another seed another") {
  auto o = sampling_options(11);
  o.num_samples = 4;
  auto a = generate(*model(), {prompt(2)}, o);
  auto b = generate(*model(), {prompt(2)}, o);
  o.seed = 12;
  auto c = generate(*model(), {prompt(2)}, o);
  bool any_diff = false;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(a.samples[i].tokens == b.samples[i].tokens);
    any_diff |= a.samples[i].tokens != c.samples[i].tokens;
  }
  CHECK(any_diff);
}

TEST_CASE("log-probabilities: model distribution and sampling distribution") {
  auto o = sampling_options(3);
  o.sampling = SamplingOptions{};  // T = 1, nothing removed: the two coincide
  o.num_samples = 3;
  for (const auto& s : generate(*model(), {prompt(1)}, o).samples)
    for (size_t t = 0; t < s.tokens.size(); ++t) CHECK(s.sampling_logprobs[t] == Approx(s.logprobs[t]).margin(1e-4));
  o.sampling = SamplingOptions{1.0, 0, 0.5, 0.0};  // top-p renormalises: a drawn token gains probability
  for (const auto& s : generate(*model(), {prompt(1)}, o).samples) {
    double sum = 0;
    for (size_t t = 0; t < s.tokens.size(); ++t) {
      CHECK(s.sampling_logprobs[t] >= s.logprobs[t] - 1e-5f);
      CHECK(s.sampling_logprobs[t] <= 1e-5f);
      sum += s.logprobs[t];
    }
    CHECK(s.sum_logprob() == Approx(sum));
  }
}

TEST_CASE("EOS ids and stop strings end a sample") {
  const auto& r = ref()["prompts"][0];
  auto greedy = ids_of(r["greedy_tokens"]);
  std::string text = r["greedy_text"];
  // A token of the greedy path declared EOS: generation stops right after its first occurrence.
  const int32_t stop_id = greedy[5];
  size_t first = static_cast<size_t>(std::find(greedy.begin(), greedy.end(), stop_id) - greedy.begin());
  auto o = greedy_options();
  o.extra_eos_ids = {stop_id};
  auto s = generate(*model(), {prompt(0)}, o).samples[0];
  CHECK(s.finish == FinishReason::kEos);
  CHECK(s.tokens == Ids(greedy.begin(), greedy.begin() + static_cast<long>(first) + 1));
  CHECK(s.text == model()->tokenizer()->decode(Ids(greedy.begin(), greedy.begin() + static_cast<long>(first)), true));

  // A stop string from the middle of the greedy text: the text is cut before its first occurrence.
  REQUIRE(text.size() > 12);
  std::string stop = text.substr(8, 3);
  auto o2 = greedy_options();
  o2.stop_strings = {"never-appears-here", stop};
  auto t = generate(*model(), {prompt(0)}, o2).samples[0];
  CHECK(t.finish == FinishReason::kStop);
  CHECK(t.text == text.substr(0, text.find(stop)));
  CHECK(t.tokens.size() < greedy.size());
  CHECK(Ids(greedy.begin(), greedy.begin() + static_cast<long>(t.tokens.size())) == t.tokens);

  auto l = generate(*model(), {prompt(0)}, greedy_options()).samples[0];
  CHECK(l.finish == FinishReason::kLength);
}

TEST_CASE("the streaming callback sees every token and can stop a row") {
  auto o = sampling_options(9);
  o.num_samples = 3;
  std::vector<std::string> streamed(3);
  std::vector<Ids> seen(3);
  o.on_token = [&](int64_t row, int32_t id, const std::string& piece) {
    streamed[static_cast<size_t>(row)] += piece;
    seen[static_cast<size_t>(row)].push_back(id);
    return !(row == 1 && seen[1].size() == 3);
  };
  auto res = generate(*model(), {prompt(2)}, o);
  for (size_t r = 0; r < 3; ++r) {
    CHECK(seen[r] == res.samples[r].tokens);
    if (res.samples[r].finish != FinishReason::kCallback) CHECK(streamed[r] == res.samples[r].text);
  }
  CHECK(res.samples[1].tokens.size() == 3u);
  CHECK(res.samples[1].finish == FinishReason::kCallback);

  auto c = sampling_options(9);
  int calls = 0;
  c.on_progress = [&](int64_t done, int64_t total, const std::string&) {
    CHECK(done <= total);
    return ++calls < 4;
  };
  CHECK_THROWS_AS(generate(*model(), {prompt(2)}, c), Cancelled);
  CHECK(calls == 4);
}

TEST_CASE("finished rows: compacting the batch changes nothing") {
  // Many EOS ids make rows end at different steps.
  auto o = sampling_options(21);
  o.num_samples = 10;
  o.max_new_tokens = 20;
  for (int32_t id = 40; id < 420; id += 9) o.extra_eos_ids.push_back(id);
  o.shrink_fraction = 1.0;  // compact whenever a row ends
  auto a = generate(*model(), {prompt(0), prompt(1)}, o);
  o.shrink_fraction = 0.0;  // never compact
  auto b = generate(*model(), {prompt(0), prompt(1)}, o);
  int ended_early = 0;
  for (size_t i = 0; i < a.samples.size(); ++i) {
    CHECK(a.samples[i].tokens == b.samples[i].tokens);
    CHECK(a.samples[i].finish == b.samples[i].finish);
    ended_early += a.samples[i].finish == FinishReason::kEos;
  }
  CHECK(ended_early >= 5);
  CHECK(a.generated_tokens == b.generated_tokens);
}

TEST_CASE("generation options are validated") {
  auto o = sampling_options(0);
  o.num_samples = 0;
  CHECK_THROWS_WITH(generate(*model(), {prompt(0)}, o), Catch::Contains("num_samples"));
  o = sampling_options(0);
  o.sampling.top_p = 0;
  CHECK_THROWS_WITH(generate(*model(), {prompt(0)}, o), Catch::Contains("top_p"));
  o = sampling_options(0);
  CHECK_THROWS_AS(generate_ids(*model(), {Ids{}}, o), InvalidArgument);
  CHECK_THROWS_AS(generate_ids(*model(), {Ids{5, 100000}}, o), InvalidArgument);
  o.stop_strings = {""};
  CHECK_THROWS_AS(generate(*model(), {prompt(0)}, o), InvalidArgument);
  o = sampling_options(0);
  o.max_new_tokens = 0;
  auto empty = generate(*model(), {prompt(0)}, o);
  CHECK(empty.samples[0].tokens.empty());
}

TEST_CASE("answer sets: budgets split by ratio, records of origin and retries") {
  CHECK(split_budget(50, 2, {}) == std::vector<int64_t>{25, 25});
  CHECK(split_budget(51, 2, {}) == std::vector<int64_t>{26, 25});
  CHECK(split_budget(10, 3, {1, 1, 1}) == std::vector<int64_t>{4, 3, 3});
  CHECK(split_budget(10, 2, {3, 1}) == std::vector<int64_t>{8, 2});  // 7.5 / 2.5: tie to the first
  CHECK(split_budget(7, 3, {0, 1, 0}) == std::vector<int64_t>{0, 7, 0});
  CHECK_THROWS_AS(split_budget(10, 2, {1}), InvalidArgument);
  CHECK_THROWS_AS(split_budget(10, 2, {0, 0}), InvalidArgument);
  CHECK_THROWS_AS(split_budget(10, 2, {-1, 2}), InvalidArgument);

  // A random tiny model cannot follow the format: every generation fails to parse, the retry
  // budget ends the loop, and the report says so.
  Question q;
  q.text = "Name a color.";
  AnswerSetOptions opt;
  opt.budget = 6;
  opt.batch = 3;
  opt.max_generations = 5;
  opt.generation.max_new_tokens = 8;
  std::shared_ptr<const CausalLM> m = model();
  auto set = collect_answers({m, m}, q, opt);
  REQUIRE(set.models.size() == 2u);
  for (const auto& r : set.models) {
    CHECK(r.target == 3);
    CHECK(r.generations == 5);
    CHECK(r.failed_generations == 5 - 0);
    CHECK(r.failures.size() == 5u);
    CHECK(r.generated_tokens > 0);
  }
  CHECK(set.answers.empty());
  CHECK(!set.complete);
}

namespace {
// Forces the model to write `text` then EOS, in every row, generation after generation (all rows of a
// round end together, so the step counter cycles with the script).
struct Script final : LogitsTransform {
  Ids ids;
  mutable size_t t = 0;
  torch::Tensor apply(const torch::Tensor& l) const override {
    auto out = torch::full_like(l, -INFINITY);
    out.select(1, ids[t++ % ids.size()]).fill_(0);
    return out;
  }
  std::string name() const override { return "script"; }
};
}  // namespace

TEST_CASE("answer sets: answers parsed from generations, with model and generation of origin") {
  auto tok = model()->tokenizer();
  auto script = std::make_shared<Script>();
  script->ids = tok->encode("{red, blue}", false);
  script->ids.push_back(tok->eos_ids().at(0));
  Question q;
  q.kind = QuestionKind::kFixed;
  q.text = "Output two different colors.";
  q.item = "color";
  q.items = "colors";
  AnswerSetOptions opt;
  opt.strategy = AnswerStrategy::kTwo;
  opt.budget = 9;
  opt.ratios = {2, 1};  // 6 and 3 answers
  opt.batch = 2;
  opt.generation.max_new_tokens = 32;
  opt.generation.extra_transforms = {script};
  std::shared_ptr<const CausalLM> m = model();
  auto set = collect_answers({m, m}, q, opt);
  CHECK(set.complete);
  REQUIRE(set.answers.size() == 9u);
  REQUIRE(set.models.size() == 2u);
  CHECK(set.models[0].target == 6);
  CHECK(set.models[1].target == 3);
  // Model 0: 3 generations give its 6 answers, but a round has 2, so 4 were generated.
  CHECK(set.models[0].generations == 4);
  CHECK(set.models[1].generations == 2);
  CHECK(set.models[0].failed_generations == 0);
  const std::vector<std::string> colors = {"red", "blue"};
  for (size_t i = 0; i < 6; ++i) {
    CHECK(set.answers[i].model == 0);
    CHECK(set.answers[i].text == colors[i % 2]);
    CHECK(set.answers[i].generation == static_cast<int64_t>(i / 2));
  }
  for (size_t i = 6; i < 9; ++i) {
    CHECK(set.answers[i].model == 1);
    CHECK(set.answers[i].generation == static_cast<int64_t>((i - 6) / 2));
  }
}

TEST_CASE("the host syncs with the device once per decode step") {
  // The hook itself, on hand-worked calls.
  {
    test::HostSyncCounter c;
    auto t = torch::ones({3});
    (void)(t * 2).sum();
    CHECK(c.count() == 0);
    (void)t[0].item<float>();
    CHECK(c.count() == 1);
    (void)t.cpu();
    CHECK(c.count() == 2);
    (void)t.nonzero();
    CHECK(c.count() == 3);
    if ((t > 0).all().item<bool>()) CHECK(c.count() == 4);
  }
  // Sampling without stops (no batch compaction): every step after the first costs its decode
  // forward, its draws and exactly one read of the step's results.
  auto o = sampling_options(7);
  o.num_samples = 3;
  o.max_new_tokens = 12;
  o.stop_at_eos = false;
  std::vector<int64_t> per_step;
  std::vector<std::string> logs;
  test::HostSyncCounter c;
  o.on_progress = [&](int64_t, int64_t, const std::string&) {
    per_step.push_back(c.count());
    logs.push_back(c.log());
    c.reset();
    return true;
  };
  auto res = generate(*model(), {prompt(0), prompt(1)}, o);
  REQUIRE(per_step.size() == 12);
  for (size_t i = 1; i < per_step.size(); ++i) {
    INFO("step " << i << ": " << logs[i]);
    CHECK(per_step[i] == 1);
  }
}

TEST_CASE("cuda_graph: the fixed-shape decode step gives the same samples and waits for nothing") {
  for (bool stop_at_eos : {false, true}) {
    INFO("stop_at_eos " << stop_at_eos);
    auto o = sampling_options(11);
    o.num_samples = 3;
    o.max_new_tokens = 20;
    o.stop_at_eos = stop_at_eos;  // with stops, finished rows ride along in the fixed-shape batch
    std::vector<std::string> prompts = {prompt(0), prompt(1)};
    auto plain = generate(*model(), prompts, o);
    o.cuda_graph = true;
    auto fixed = generate(*model(), prompts, o);
    REQUIRE(plain.samples.size() == fixed.samples.size());
    for (size_t i = 0; i < plain.samples.size(); ++i) {
      CHECK(plain.samples[i].tokens == fixed.samples[i].tokens);
      CHECK(plain.samples[i].finish == fixed.samples[i].finish);
      for (size_t k = 0; k < plain.samples[i].logprobs.size(); ++k)
        CHECK(plain.samples[i].logprobs[k] == Approx(fixed.samples[i].logprobs[k]).margin(1e-4));
    }
  }
  // A fixed-shape step reads nothing back (what a CUDA graph capture requires), and its logits equal
  // an ordinary step's on the same cache contents.
  auto ids = encode_prompt(*model(), prompt(0), true);
  KvCache a = model()->new_cache(1, static_cast<int64_t>(ids.size()) + 4);
  KvCache b = model()->new_cache(1, static_cast<int64_t>(ids.size()) + 4);
  model()->prefill(a, {ids});
  model()->prefill(b, {ids});
  auto next = torch::tensor({static_cast<int64_t>(ids[0])}, torch::kInt64).reshape({1, 1});
  ForwardOptions fixed;
  fixed.fixed_shape = true;
  for (int step = 0; step < 4; ++step) {
    auto want = model()->forward(a, next, {}).logits;
    test::HostSyncCounter syncs;
    auto got = model()->forward(b, next, {}, fixed).logits;
    CHECK(syncs.count() == 0);
    INFO(syncs.log());
    CHECK(torch::allclose(got, want, 1e-5, 1e-5));
    CHECK(a.columns() == b.columns());
  }
  // The capacity is used up: a fixed-shape step never grows the cache.
  CHECK_THROWS_WITH(model()->forward(b, next, {}, fixed), Catch::Contains("never grows the cache"));
  CHECK_THROWS_WITH(model()->forward(b, next.repeat({1, 2}), {}, fixed), Catch::Contains("one token per row"));
}
