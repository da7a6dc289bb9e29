// The C API against the library's references: tokenization and greedy generation against
// tokenizers/transformers (reference.json of make_bindings_fixture.py), BACO rules written in C,
// streaming and cancellation, DivCov on hand-worked sets, routers with hand-placed features, and the
// error contract (status codes, messages, thread-local last error, NULL frees).
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "breadth.h"
#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"
#include "common/require_input.hpp"
#include "common/test_env.hpp"
#include "routing_pipeline/bert_reference.hpp"
#include "core/files.hpp"

using nlohmann::json;

namespace {

// File helpers of core/files.hpp rather than std::filesystem (see breadth::test::remove_tree).
using breadth::files::exists;
std::string temp_dir(const std::string& tag) {
  std::string t = "/tmp/breadth_capi_" + tag + "_XXXXXX";
  REQUIRE(::mkdtemp(t.data()) != nullptr);
  return t;
}
void remove_tree(const std::string& dir) { REQUIRE(breadth::test::remove_tree(dir)); }

std::string fixture() { return breadth::test::fixtures_dir() + "/bindings"; }
json reference() {
  std::ifstream f(fixture() + "/reference.json");
  REQUIRE(f.good());
  return json::parse(f);
}

/// Loads a fixture model or fails the test with the library's message.
breadth_model* load(const std::string& role) {
  breadth_model* m = nullptr;
  breadth_status s = breadth_model_load((fixture() + "/" + role).c_str(), nullptr, &m);
  INFO(breadth_last_error());
  REQUIRE(s == BREADTH_OK);
  return m;
}

struct Models {
  breadth_model* base = load("base");
  breadth_model* aligned = load("aligned");
  ~Models() {
    breadth_model_free(base);
    breadth_model_free(aligned);
  }
};

std::vector<breadth_sample> samples_of(const breadth_generation* g) {
  size_t n = 0;
  REQUIRE(breadth_generation_count(g, &n) == BREADTH_OK);
  std::vector<breadth_sample> out;
  for (size_t i = 0; i < n; ++i) {
    breadth_sample s = BREADTH_SAMPLE_INIT;
    REQUIRE(breadth_generation_get(g, i, &s) == BREADTH_OK);
    out.push_back(s);
  }
  return out;
}

std::vector<int32_t> ids_of(const breadth_sample& s) { return {s.tokens, s.tokens + s.num_tokens}; }

/// The tokens of every BACO sample, with their sources.
struct BacoTokens {
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<int32_t>> redraws;
  std::vector<std::vector<breadth_source>> sources;
  std::vector<std::vector<breadth_route_reason>> reasons;
};
BacoTokens baco_tokens(const breadth_baco_result* r) {
  BacoTokens t;
  size_t n = 0;
  REQUIRE(breadth_baco_result_count(r, &n) == BREADTH_OK);
  for (size_t i = 0; i < n; ++i) {
    breadth_baco_sample s = BREADTH_BACO_SAMPLE_INIT;
    REQUIRE(breadth_baco_result_get(r, i, &s) == BREADTH_OK);
    t.ids.emplace_back();
    t.sources.emplace_back();
    t.reasons.emplace_back();
    t.redraws.emplace_back();
    for (size_t j = 0; j < s.num_tokens; ++j) {
      breadth_token_record rec = BREADTH_TOKEN_RECORD_INIT;
      REQUIRE(breadth_baco_result_token(r, i, j, &rec) == BREADTH_OK);
      t.ids.back().push_back(rec.id);
      t.sources.back().push_back(rec.source);
      t.reasons.back().push_back(rec.reason);
      t.redraws.back().push_back(rec.eos_redraws);
    }
  }
  return t;
}

}  // namespace

TEST_CASE("version and ABI", "[capi]") {
  std::string v = std::to_string(BREADTH_C_VERSION_MAJOR) + "." + std::to_string(BREADTH_C_VERSION_MINOR) + "." +
                  std::to_string(BREADTH_C_VERSION_PATCH);
  CHECK(std::string(breadth_version()) == v);
  CHECK(breadth_abi_version() == BREADTH_ABI_VERSION);
  CHECK(std::string(breadth_status_name(BREADTH_ERR_IO)) == "BREADTH_ERR_IO");
  CHECK(std::string(breadth_status_name(static_cast<breadth_status>(99))) == "BREADTH_ERR_UNKNOWN");
}

TEST_CASE("free functions accept NULL", "[capi]") {
  breadth_model_free(nullptr);
  breadth_tokens_free(nullptr);
  breadth_string_free(nullptr);
  breadth_generation_free(nullptr);
  breadth_answer_set_free(nullptr);
  breadth_rule_free(nullptr);
  breadth_baco_free(nullptr);
  breadth_baco_result_free(nullptr);
  breadth_divcov_free(nullptr);
  breadth_router_free(nullptr);
  breadth_encoder_free(nullptr);
  breadth_floats_free(nullptr);
  breadth_tokens t{nullptr, 0};
  breadth_tokens_free(&t);  // a zeroed struct too
  breadth_floats f{nullptr, 0, 0};
  breadth_floats_free(&f);
  SUCCEED();
}

TEST_CASE("errors: status codes, messages, thread-local last error", "[capi]") {
  breadth_model* m = reinterpret_cast<breadth_model*>(0x1);
  CHECK(breadth_model_load("/nonexistent/model-dir", nullptr, &m) == BREADTH_ERR_IO);
  CHECK(m == nullptr);  // out is reset on failure
  CHECK(std::string(breadth_last_error()).find("/nonexistent/model-dir") != std::string::npos);

  // A file that is not a checkpoint.
  auto dir = temp_dir("bad");
  auto bad = dir + "/bad.gguf";
  {
    // GGUF magic and version 3, then a tensor count with no bytes behind it: truncated.
    std::ofstream f(bad, std::ios::binary);
    const char head[] = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1, 0};
    f.write(head, sizeof head);
  }
  CHECK(breadth_model_load(bad.c_str(), nullptr, &m) == BREADTH_ERR_FORMAT);
  CHECK(std::string(breadth_last_error()).find("bad.gguf") != std::string::npos);
  remove_tree(dir);

  CHECK(breadth_model_load(nullptr, nullptr, &m) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("NULL") != std::string::npos);

  breadth_model_options o = BREADTH_MODEL_OPTIONS_INIT;
  o.weights = static_cast<breadth_weight_format>(7);
  CHECK(breadth_model_load((fixture() + "/base").c_str(), &o, &m) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("options->weights") != std::string::npos);
  o = BREADTH_MODEL_OPTIONS_INIT;
  o.version = 99;
  CHECK(breadth_model_load((fixture() + "/base").c_str(), &o, &m) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("BREADTH_MODEL_OPTIONS_INIT") != std::string::npos);

  // The last error belongs to the thread that failed, and success clears it.
  breadth_rule* r = nullptr;
  REQUIRE(breadth_rule_parse("no-such-rule:0.5", &r) == BREADTH_ERR_INVALID_ARGUMENT);
  std::string mine = breadth_last_error();
  CHECK(mine.find("no") != std::string::npos);
  std::string other;
  std::thread([&] {
    other = breadth_last_error();  // nothing failed on this thread yet
    breadth_rule* r2 = nullptr;
    CHECK(breadth_rule_parse(nullptr, &r2) == BREADTH_ERR_INVALID_ARGUMENT);
  }).join();
  CHECK(other.empty());
  CHECK(std::string(breadth_last_error()) == mine);
  REQUIRE(breadth_rule_parse("p-punc:0.3", &r) == BREADTH_OK);
  CHECK(std::string(breadth_last_error()).empty());
  const char* name = nullptr;
  REQUIRE(breadth_rule_name(r, &name) == BREADTH_OK);
  CHECK(std::string(name) == "p-punc:0.3");
  breadth_rule_free(r);

  // Views declared without their _INIT macro are refused rather than overrun.
  breadth_divcov* d = nullptr;
  int32_t part[] = {0};
  double q[] = {1.0};
  REQUIRE(breadth_divcov_from_partition(part, q, 1, 1.0, 0.8, &d) == BREADTH_OK);
  breadth_divcov_figures fig{};
  CHECK(breadth_divcov_get(d, &fig) == BREADTH_ERR_INVALID_ARGUMENT);
  breadth_divcov_free(d);
}

TEST_CASE("tokenize and detokenize equal the tokenizers library", "[capi]") {
  auto ref = reference();
  Models ms;
  int32_t vocab = 0;
  REQUIRE(breadth_model_vocab_size(ms.aligned, &vocab) == BREADTH_OK);
  CHECK(vocab == ref["vocab_size"].get<int32_t>());
  for (const auto& t : ref["texts"]) {
    auto text = t["text"].get<std::string>();
    breadth_tokens toks{};
    REQUIRE(breadth_tokenize(ms.aligned, text.c_str(), 0, 0, &toks) == BREADTH_OK);
    CHECK(std::vector<int32_t>(toks.ids, toks.ids + toks.count) == t["ids"].get<std::vector<int32_t>>());
    char* back = nullptr;
    REQUIRE(breadth_detokenize(ms.aligned, toks.ids, toks.count, 0, &back) == BREADTH_OK);
    CHECK(std::string(back) == text);
    breadth_string_free(back);
    breadth_tokens_free(&toks);
    CHECK(toks.ids == nullptr);
  }
  breadth_tokens chat{};
  REQUIRE(breadth_tokenize(ms.aligned, ref["prompt"].get<std::string>().c_str(), 0, 1, &chat) == BREADTH_OK);
  CHECK(std::vector<int32_t>(chat.ids, chat.ids + chat.count) == ref["chat_ids"].get<std::vector<int32_t>>());
  breadth_tokens_free(&chat);

  breadth_tokens none{};
  CHECK(breadth_tokenize(ms.base, "x", 0, 1, &none) == BREADTH_ERR_INVALID_ARGUMENT);  // base: no template
  CHECK(std::string(breadth_last_error()).find("chat template") != std::string::npos);
  CHECK(breadth_tokenize(nullptr, "x", 0, 0, &none) == BREADTH_ERR_INVALID_ARGUMENT);
  char* s = nullptr;
  CHECK(breadth_detokenize(ms.aligned, nullptr, 3, 0, &s) == BREADTH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("greedy generation equals transformers", "[capi]") {
  auto ref = reference();
  Models ms;
  const std::string prompt = ref["prompt"];
  const char* prompts[] = {prompt.c_str()};
  breadth_generate_options o = BREADTH_GENERATE_OPTIONS_INIT;
  o.sampling.temperature = 0.0;
  o.apply_chat_template = 0;
  o.max_new_tokens = ref["max_new"];
  breadth_generation* g = nullptr;
  REQUIRE(breadth_generate(ms.aligned, prompts, 1, &o, &g) == BREADTH_OK);
  auto s = samples_of(g);
  REQUIRE(s.size() == 1);
  CHECK(ids_of(s[0]) == ref["greedy_tokens"].get<std::vector<int32_t>>());
  CHECK(std::string(s[0].text, s[0].text_len) == ref["greedy_text"].get<std::string>());
  CHECK(std::strlen(s[0].text) == s[0].text_len);
  for (size_t i = 0; i < s[0].num_tokens; ++i) CHECK(s[0].logprobs[i] <= 0.0f);
  breadth_sample bad = BREADTH_SAMPLE_INIT;
  CHECK(breadth_generation_get(g, 1, &bad) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("out of range") != std::string::npos);
  breadth_generation_free(g);

  o.sampling.temperature = -1.0;
  CHECK(breadth_generate(ms.aligned, prompts, 1, &o, &g) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(g == nullptr);
  CHECK(std::string(breadth_last_error()).find("temperature") != std::string::npos);
}

namespace {
struct Stream {
  std::vector<std::string> text;
  std::vector<int> tokens;
  int stop_row0_after = -1;
};
int on_token(const breadth_token_event* e, void* ud) {
  auto* st = static_cast<Stream*>(ud);
  CHECK(e->source == BREADTH_SOURCE_MODEL);
  CHECK(std::strlen(e->text) == e->text_len);
  st->text[e->row].append(e->text, e->text_len);
  st->tokens[e->row]++;
  return !(e->row == 0 && st->tokens[0] == st->stop_row0_after);
}
int cancel_progress(int64_t done, int64_t, const char*, void* ud) {
  ++*static_cast<int*>(ud);
  return done < 3;
}
}  // namespace

TEST_CASE("token streaming, stopping a sample, cancelling a run", "[capi]") {
  Models ms;
  const char* prompts[] = {"Name a color, please!"};
  Stream st;
  st.text.resize(3);
  st.tokens.resize(3);
  st.stop_row0_after = 2;
  breadth_generate_options o = BREADTH_GENERATE_OPTIONS_INIT;
  o.num_samples = 3;
  o.max_new_tokens = 10;
  o.seed = 3;
  o.on_token = on_token;
  o.user_data = &st;
  breadth_generation* g = nullptr;
  REQUIRE(breadth_generate(ms.aligned, prompts, 1, &o, &g) == BREADTH_OK);
  auto s = samples_of(g);
  REQUIRE(s.size() == 3);
  CHECK(s[0].finish == BREADTH_FINISH_CALLBACK);
  CHECK(s[0].num_tokens == 2);
  for (size_t i = 0; i < 3; ++i) CHECK(st.tokens[i] == static_cast<int>(s[i].num_tokens));
  for (size_t i = 1; i < 3; ++i) {
    CHECK(s[i].finish != BREADTH_FINISH_CALLBACK);
    // Streamed pieces add up to the sample's text (special tokens, e.g. EOS, decode to nothing).
    CHECK(st.text[i] == std::string(s[i].text, s[i].text_len));
  }
  // Same seed without the callback: the other rows are unaffected by row 0 stopping.
  breadth_generate_options plain = o;
  plain.on_token = nullptr;
  breadth_generation* g2 = nullptr;
  REQUIRE(breadth_generate(ms.aligned, prompts, 1, &plain, &g2) == BREADTH_OK);
  auto s2 = samples_of(g2);
  for (size_t i = 1; i < 3; ++i) CHECK(ids_of(s2[i]) == ids_of(s[i]));
  auto first2 = ids_of(s2[0]);
  CHECK(std::vector<int32_t>(first2.begin(), first2.begin() + 2) == ids_of(s[0]));
  // cuda_graph (version 2): the fixed-shape step (run eagerly on the CPU) gives the same samples.
  CHECK(plain.cuda_graph == 0);
  plain.cuda_graph = 1;
  breadth_generation* g3 = nullptr;
  REQUIRE(breadth_generate(ms.aligned, prompts, 1, &plain, &g3) == BREADTH_OK);
  auto s3 = samples_of(g3);
  for (size_t i = 0; i < 3; ++i) CHECK(ids_of(s3[i]) == ids_of(s2[i]));
  breadth_generation_free(g3);
  breadth_generation_free(g2);
  breadth_generation_free(g);

  int calls = 0;
  o.on_token = nullptr;
  o.on_progress = cancel_progress;
  o.user_data = &calls;
  g = reinterpret_cast<breadth_generation*>(0x1);
  CHECK(breadth_generate(ms.aligned, prompts, 1, &o, &g) == BREADTH_ERR_CANCELLED);
  CHECK(g == nullptr);
  CHECK(calls >= 1);
  CHECK(std::strlen(breadth_last_error()) > 0);
}

namespace {
struct RuleState {
  int calls = 0;
  int route = BREADTH_ROUTE_BASE;
  bool saw_partial = false;
  bool stats_ok = true;
};
int c_rule(const breadth_step_view* v, void* ud) {
  auto* st = static_cast<RuleState*>(ud);
  ++st->calls;
  if (!v->has_base) st->saw_partial = true;
  if (!(v->p_base_max > 0.0f && v->p_base_max <= 1.0f && v->h_base >= 0.0f && v->base_candidate >= 0))
    st->stats_ok = false;
  return st->route;
}
int baco_stop(const breadth_token_event* e, void* ud) {
  auto* counts = static_cast<std::vector<int>*>(ud);
  CHECK((e->source == BREADTH_SOURCE_BASE || e->source == BREADTH_SOURCE_ALIGNED));
  return ++(*counts)[e->row] < 3 || e->row != 1;
}
}  // namespace

TEST_CASE("BACO's two models each with their own options: a bfloat16 base beside a float32 aligned model", "[capi]") {
  // Each breadth_model carries its own breadth_model_options (device, dtype), so a C caller puts the
  // two models on different devices ("cpu" and "cuda") or dtypes; breadth_baco_create takes both.
  breadth_model_options bo = BREADTH_MODEL_OPTIONS_INIT;
  bo.device = "cpu";
  bo.dtype = BREADTH_DTYPE_BFLOAT16;
  breadth_model* base16 = nullptr;
  REQUIRE(breadth_model_load((fixture() + "/base").c_str(), &bo, &base16) == BREADTH_OK);
  Models ms;
  breadth_baco *mixed = nullptr, *plain = nullptr;
  REQUIRE(breadth_baco_create(base16, ms.aligned, &mixed) == BREADTH_OK);
  REQUIRE(breadth_baco_create(ms.base, ms.aligned, &plain) == BREADTH_OK);
  const char* prompts[] = {"Tell me a story about a cat."};
  breadth_baco_options o = BREADTH_BACO_OPTIONS_INIT;
  o.num_samples = 2;
  o.max_new_tokens = 10;
  o.seed = 4;
  o.lazy = 0;
  breadth_baco_result *a = nullptr, *b = nullptr;
  // p at gamma 0 never routes to base: the tokens are the float32 aligned model's either way.
  REQUIRE(breadth_baco_generate_spec(plain, prompts, 1, "p:0", &o, &a) == BREADTH_OK);
  REQUIRE(breadth_baco_generate_spec(mixed, prompts, 1, "p:0", &o, &b) == BREADTH_OK);
  const auto ta = baco_tokens(a);
  CHECK(ta.ids == baco_tokens(b).ids);
  // The base model's recorded statistics are the bfloat16 model's: close, not equal.
  double most = 0;
  for (size_t i = 0; i < ta.ids.size(); ++i)
    for (size_t j = 0; j < ta.ids[i].size(); ++j) {
      breadth_token_record x = BREADTH_TOKEN_RECORD_INIT, y = BREADTH_TOKEN_RECORD_INIT;
      REQUIRE(breadth_baco_result_token(a, i, j, &x) == BREADTH_OK);
      REQUIRE(breadth_baco_result_token(b, i, j, &y) == BREADTH_OK);
      CHECK(x.p_aligned_max == y.p_aligned_max);
      most = std::max(most, static_cast<double>(std::fabs(x.p_base_max - y.p_base_max)));
    }
  CHECK(most > 0);
  CHECK(most < 0.1);
  breadth_baco_result_free(a);
  breadth_baco_result_free(b);
  breadth_baco_free(mixed);
  breadth_baco_free(plain);
  breadth_model_free(base16);
}

TEST_CASE("BACO with named rules, C callback rules, sweeps", "[capi]") {
  Models ms;
  breadth_baco* baco = nullptr;
  REQUIRE(breadth_baco_create(ms.base, ms.aligned, &baco) == BREADTH_OK);
  int shared = 0;
  REQUIRE(breadth_baco_shared_vocabulary(baco, &shared) == BREADTH_OK);
  CHECK(shared == 1);
  const char* prompts[] = {"Tell me a story about a cat."};
  breadth_baco_options o = BREADTH_BACO_OPTIONS_INIT;
  o.num_samples = 3;
  o.max_new_tokens = 12;
  o.seed = 11;
  o.lazy = 0;

  SECTION("a callback that always says aligned reproduces aligned-only sampling") {
    RuleState st;
    st.route = BREADTH_ROUTE_ALIGNED;
    breadth_rule* rule = nullptr;
    REQUIRE(breadth_rule_from_callback("always-aligned", c_rule, BREADTH_NEEDS_BASE, &st, &rule) == BREADTH_OK);
    breadth_baco_result* r = nullptr;
    REQUIRE(breadth_baco_generate(baco, prompts, 1, rule, &o, &r) == BREADTH_OK);
    CHECK(st.calls > 0);
    CHECK(st.stats_ok);
    CHECK_FALSE(st.saw_partial);  // needs=BASE: never called without the base model's statistics
    auto t = baco_tokens(r);

    breadth_generate_options g = BREADTH_GENERATE_OPTIONS_INIT;
    g.sampling.top_p = 0.9;  // BACO's candidate sampler
    g.num_samples = 3;
    g.max_new_tokens = 12;
    g.seed = 11;
    breadth_generation* gen = nullptr;
    REQUIRE(breadth_generate(ms.aligned, prompts, 1, &g, &gen) == BREADTH_OK);
    auto s = samples_of(gen);
    for (size_t i = 0; i < 3; ++i) {
      // Equal token for token, up to a step where BACO redrew an aligned EOS that was not the
      // aligned model's top-1 (invariant 3), after which the runs may part.
      auto want = ids_of(s[i]);
      size_t k = 0;
      for (; k < t.ids[i].size() && t.redraws[i][k] == 0; ++k) {
        REQUIRE(k < want.size());
        CHECK(t.ids[i][k] == want[k]);
      }
      if (k == t.ids[i].size()) CHECK(t.ids[i].size() == want.size());
      for (auto src : t.sources[i]) CHECK(src == BREADTH_SOURCE_ALIGNED);
    }
    const char* rule_name = nullptr;
    REQUIRE(breadth_baco_result_rule(r, &rule_name) == BREADTH_OK);
    CHECK(std::string(rule_name) == "always-aligned");
    breadth_generation_free(gen);
    breadth_baco_result_free(r);
    breadth_rule_free(rule);
  }

  SECTION("a callback that always says base: every rule-decided token is the base model's") {
    RuleState st;
    breadth_rule* rule = nullptr;
    REQUIRE(breadth_rule_from_callback("always-base", c_rule, BREADTH_NEEDS_BOTH, &st, &rule) == BREADTH_OK);
    breadth_baco_result* r = nullptr;
    REQUIRE(breadth_baco_generate(baco, prompts, 1, rule, &o, &r) == BREADTH_OK);
    auto t = baco_tokens(r);
    int rule_tokens = 0;
    for (size_t i = 0; i < t.ids.size(); ++i) {
      REQUIRE(!t.ids[i].empty());
      CHECK(t.sources[i][0] == BREADTH_SOURCE_ALIGNED);  // invariant 1
      CHECK(t.reasons[i][0] == BREADTH_REASON_FIRST_TOKEN);
      for (size_t j = 0; j < t.ids[i].size(); ++j)
        if (t.reasons[i][j] == BREADTH_REASON_RULE) {
          ++rule_tokens;
          CHECK(t.sources[i][j] == BREADTH_SOURCE_BASE);
        }
    }
    CHECK(rule_tokens > 0);
    breadth_baco_summary sum = BREADTH_BACO_SUMMARY_INIT;
    REQUIRE(breadth_baco_result_summary(r, &sum) == BREADTH_OK);
    CHECK(sum.samples == 3);
    CHECK(sum.base_share > 0.5);
    breadth_baco_result_free(r);

    // A cascade whose first stage always says aligned never reaches the callback.
    breadth_rule* aligned_first = nullptr;
    RuleState st2;
    st2.route = BREADTH_ROUTE_ALIGNED;
    REQUIRE(breadth_rule_from_callback("aligned", c_rule, BREADTH_NEEDS_BOTH, &st2, &aligned_first) == BREADTH_OK);
    const breadth_rule* stages[] = {aligned_first, rule};
    breadth_rule* cas = nullptr;
    REQUIRE(breadth_rule_cascade(stages, 2, "my-cascade", &cas) == BREADTH_OK);
    breadth_rule_free(aligned_first);  // the cascade shares its stages
    st.calls = 0;
    REQUIRE(breadth_baco_generate(baco, prompts, 1, cas, &o, &r) == BREADTH_OK);
    CHECK(st.calls == 0);
    CHECK(st2.calls > 0);
    breadth_baco_result_free(r);
    breadth_rule_free(cas);
    breadth_rule_free(rule);
  }

  SECTION("a callback returning something else fails the run with its name") {
    RuleState st;
    st.route = 7;
    breadth_rule* rule = nullptr;
    REQUIRE(breadth_rule_from_callback("broken", c_rule, BREADTH_NEEDS_BOTH, &st, &rule) == BREADTH_OK);
    breadth_baco_result* r = nullptr;
    CHECK(breadth_baco_generate(baco, prompts, 1, rule, &o, &r) == BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(r == nullptr);
    CHECK(std::string(breadth_last_error()).find("'broken' returned 7") != std::string::npos);
    breadth_rule_free(rule);
    CHECK(breadth_rule_from_callback("x", c_rule, 0, &st, &rule) == BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(breadth_rule_from_callback("x", nullptr, 3, &st, &rule) == BREADTH_ERR_INVALID_ARGUMENT);
  }

  SECTION("streaming BACO tokens and stopping one sample") {
    std::vector<int> counts(3, 0);
    o.on_token = baco_stop;
    o.user_data = &counts;
    breadth_baco_result* r = nullptr;
    REQUIRE(breadth_baco_generate_spec(baco, prompts, 1, "p-punc:0.5", &o, &r) == BREADTH_OK);
    breadth_baco_sample s = BREADTH_BACO_SAMPLE_INIT;
    REQUIRE(breadth_baco_result_get(r, 1, &s) == BREADTH_OK);
    CHECK(s.finish == BREADTH_FINISH_CALLBACK);
    CHECK(s.num_tokens == 3);
    for (size_t i = 0; i < 3; ++i) {
      breadth_baco_sample si = BREADTH_BACO_SAMPLE_INIT;
      REQUIRE(breadth_baco_result_get(r, i, &si) == BREADTH_OK);
      CHECK(counts[i] == static_cast<int>(si.num_tokens));
    }
    breadth_token_record rec = BREADTH_TOKEN_RECORD_INIT;
    CHECK(breadth_baco_result_token(r, 1, 3, &rec) == BREADTH_ERR_INVALID_ARGUMENT);
    breadth_baco_result_free(r);
    CHECK(breadth_baco_generate_spec(baco, prompts, 1, "nope", &o, &r) == BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(breadth_last_error()).find("nope") != std::string::npos);
  }

  SECTION("base_template: the base model's prompt as a format string, NULL the default") {
    auto texts = [&](const char* base_template) {
      breadth_baco_options b = o;
      b.base_template = base_template;
      breadth_baco_result* r = nullptr;
      REQUIRE(breadth_baco_generate_spec(baco, prompts, 1, "rand:1", &b, &r) == BREADTH_OK);
      auto ids = baco_tokens(r).ids;
      breadth_baco_result_free(r);
      return ids;
    };
    CHECK(o.base_template == nullptr);
    const auto def = texts(nullptr);
    CHECK(texts("{prompt}\n") == def);  // the default: the plain shifting template
    CHECK(texts("Question: {prompt}\nAnswer:") != def);
    breadth_baco_options b = o;
    b.base_template = "{oops}";
    breadth_baco_result* r = nullptr;
    CHECK(breadth_baco_generate_spec(baco, prompts, 1, "rand:1", &b, &r) == BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(r == nullptr);
    CHECK(std::string(breadth_last_error()).find("oops") != std::string::npos);
  }

  SECTION("step: the resident step emits the host-driven step's tokens, and is refused where it cannot run") {
    auto ids = [&](breadth_baco_step step, int lazy, breadth_status want) {
      breadth_baco_options b = o;
      b.step = step;
      b.lazy = lazy;
      breadth_baco_result* r = nullptr;
      REQUIRE(breadth_baco_generate_spec(baco, prompts, 1, "p-punc:0.5", &b, &r) == want);
      if (!r) return decltype(baco_tokens(r).ids){};
      auto v = baco_tokens(r).ids;
      breadth_baco_result_free(r);
      return v;
    };
    CHECK(o.step == BREADTH_BACO_STEP_AUTO);
    const auto host = ids(BREADTH_BACO_STEP_HOST_DRIVEN, 0, BREADTH_OK);
    CHECK(!host.empty());
    CHECK(ids(BREADTH_BACO_STEP_RESIDENT, 0, BREADTH_OK) == host);
    CHECK(ids(BREADTH_BACO_STEP_AUTO, 0, BREADTH_OK) == host);
    ids(BREADTH_BACO_STEP_RESIDENT, 1, BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(breadth_last_error()).find("lazy = false") != std::string::npos);
    ids(static_cast<breadth_baco_step>(7), 0, BREADTH_ERR_INVALID_ARGUMENT);
    CHECK(std::string(breadth_last_error()).find("options->step") != std::string::npos);
  }

  SECTION("a rand sweep: the base share grows with gamma") {
    double gammas[] = {0.0, 1.0};
    breadth_baco_result* out[2] = {nullptr, nullptr};
    REQUIRE(breadth_baco_sweep(baco, prompts, 1, "rand", gammas, 2, &o, out) == BREADTH_OK);
    breadth_baco_summary a = BREADTH_BACO_SUMMARY_INIT, b = BREADTH_BACO_SUMMARY_INIT;
    REQUIRE(breadth_baco_result_summary(out[0], &a) == BREADTH_OK);
    REQUIRE(breadth_baco_result_summary(out[1], &b) == BREADTH_OK);
    CHECK(a.base_tokens == 0);  // rand:0 never routes to base
    CHECK(b.base_share > 0.5);
    const char* n0 = nullptr;
    REQUIRE(breadth_baco_result_rule(out[1], &n0) == BREADTH_OK);
    CHECK(std::string(n0).rfind("rand", 0) == 0);
    breadth_baco_result_free(out[0]);
    breadth_baco_result_free(out[1]);
  }
  breadth_baco_free(baco);
}

TEST_CASE("answer sets: retry budget and counts", "[capi]") {
  Models ms;
  const breadth_model* models[] = {ms.aligned, ms.base};
  breadth_question q = BREADTH_QUESTION_INIT;
  q.text = "Name a day of the week.";
  q.kind = BREADTH_QUESTION_FIXED;
  q.item = "day";
  q.items = "days";
  breadth_answer_set_options o = BREADTH_ANSWER_SET_OPTIONS_INIT;
  o.strategy = BREADTH_STRATEGY_ONE;
  o.budget = 4;
  o.batch = 2;
  o.max_generations = 3;
  breadth_generate_options gen;
  REQUIRE(breadth_generate_options_init(&gen, BREADTH_GENERATE_OPTIONS_VERSION) == BREADTH_OK);
  gen.max_new_tokens = 6;
  o.generation = &gen;  // version 2 points to its generation options
  breadth_answer_set* set = nullptr;
  REQUIRE(breadth_collect_answers(models, 2, &q, &o, &set) == BREADTH_OK);
  size_t n = 0;
  REQUIRE(breadth_answer_set_count(set, &n) == BREADTH_OK);
  CHECK(n <= 4);
  for (size_t m = 0; m < 2; ++m) {
    int64_t gens = -1, failed = -1;
    REQUIRE(breadth_answer_set_model_stats(set, m, &gens, &failed) == BREADTH_OK);
    CHECK(gens >= 1);
    CHECK(gens <= 3);
    CHECK(failed <= gens);
    // Every generation is counted once, under the reader that gave its answers (or NONE).
    int64_t sum = 0;
    for (int p = BREADTH_PARSER_NONE; p <= BREADTH_PARSER_LINE; ++p) {
      int64_t c = -1;
      REQUIRE(breadth_answer_set_parser_count(set, m, static_cast<breadth_answer_parser>(p), &c) == BREADTH_OK);
      sum += c;
      if (p == BREADTH_PARSER_NONE) CHECK(c == failed);
    }
    CHECK(sum == gens);
  }
  int64_t cnt = 0;
  CHECK(breadth_answer_set_parser_count(set, 0, static_cast<breadth_answer_parser>(7), &cnt) ==
        BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("parser 7") != std::string::npos);
  for (size_t i = 0; i < n; ++i) {
    breadth_answer a = BREADTH_ANSWER_INIT;
    REQUIRE(breadth_answer_set_get(set, i, &a) == BREADTH_OK);
    CHECK(std::strlen(a.text) == a.text_len);
    CHECK((a.model == 0 || a.model == 1));
  }
  int complete = -1;
  REQUIRE(breadth_answer_set_complete(set, &complete) == BREADTH_OK);
  CHECK((complete == 0 || n == 4));
  CHECK(breadth_answer_set_model_stats(set, 2, nullptr, nullptr) == BREADTH_ERR_INVALID_ARGUMENT);
  breadth_answer_set_free(set);

  o.budget = 0;
  CHECK(breadth_collect_answers(models, 2, &q, &o, &set) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("budget") != std::string::npos);
  o.budget = 4;
  q.text = nullptr;
  CHECK(breadth_collect_answers(models, 2, &q, &o, &set) == BREADTH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("DivCov on hand-worked answer sets", "[capi]") {
  // Exact match after normalization: Monday ~ "monday." ; gold {monday, tuesday, wednesday}.
  const char* answers[] = {"Monday", "monday.", "Tuesday", "Sunday"};
  const char* gold[] = {"monday", "tuesday", "wednesday"};
  breadth_divcov_options o = BREADTH_DIVCOV_OPTIONS_INIT;
  o.gold = gold;
  o.num_gold = 3;
  breadth_divcov* d = nullptr;
  REQUIRE(breadth_divcov_evaluate("Name a weekday.", answers, 4, &o, &d) == BREADTH_OK);
  breadth_divcov_figures f = BREADTH_DIVCOV_FIGURES_INIT;
  REQUIRE(breadth_divcov_get(d, &f) == BREADTH_OK);
  REQUIRE(f.count == 4);
  CHECK(std::vector<int32_t>(f.partition, f.partition + 4) == std::vector<int32_t>{0, 0, 1, 2});
  CHECK(std::vector<double>(f.quality, f.quality + 4) == std::vector<double>{1, 1, 1, 0});
  CHECK(f.num_unique == 3);
  CHECK(f.div_cov == Approx(2.0 / 3.0));  // (1 + 1 + 0) / min(B = 4, |gold| = 3)
  CHECK(f.qual == Approx(0.75));
  CHECK(f.unq_qual == Approx(2.0 / 3.0));
  breadth_divcov_free(d);

  // Scores given per answer on a 0..10 scale, budget 10: (8 + 4) / (10 * 10).
  double scores[] = {8, 9, 4, 2};
  breadth_divcov_options s = BREADTH_DIVCOV_OPTIONS_INIT;
  s.scores = scores;
  s.max_score = 10;
  s.budget = 10;
  s.equivalence = "rouge1";
  const char* open[] = {"the cat sat", "the cat sat down", "a dog ran far away", "the cat sat"};
  REQUIRE(breadth_divcov_evaluate("q", open, 4, &s, &d) == BREADTH_OK);
  f = BREADTH_DIVCOV_FIGURES_INIT;
  REQUIRE(breadth_divcov_get(d, &f) == BREADTH_OK);
  CHECK(std::vector<int32_t>(f.partition, f.partition + 4) == std::vector<int32_t>{0, 0, 1, 0});
  CHECK(f.div_cov == Approx(12.0 / 100.0));
  breadth_divcov_free(d);

  // From a known partition: NoveltyBench's utility with p = 0.5: (1 + 0.5*0 + 0.25*3) / 1.75.
  int32_t part[] = {0, 0, 1};
  double qual[] = {1, 1, 3};
  REQUIRE(breadth_divcov_from_partition(part, qual, 3, 30.0, 0.5, &d) == BREADTH_OK);
  f = BREADTH_DIVCOV_FIGURES_INIT;
  REQUIRE(breadth_divcov_get(d, &f) == BREADTH_OK);
  CHECK(f.div_cov == Approx(4.0 / 30.0));
  CHECK(f.utility == Approx(1.75 / 1.75));
  breadth_divcov_free(d);

  // Any class labels: {7, 3, 7} is canonicalized to {0, 1, 0}.
  int32_t labels[] = {7, 3, 7};
  REQUIRE(breadth_divcov_from_partition(labels, qual, 3, 30.0, 0.5, &d) == BREADTH_OK);
  f = BREADTH_DIVCOV_FIGURES_INIT;
  REQUIRE(breadth_divcov_get(d, &f) == BREADTH_OK);
  CHECK(std::vector<int32_t>(f.partition, f.partition + 3) == std::vector<int32_t>{0, 1, 0});
  CHECK(f.div_cov == Approx(2.0 / 30.0));
  breadth_divcov_free(d);
  d = nullptr;
  CHECK(breadth_divcov_from_partition(labels, qual, 3, 0.0, 0.8, &d) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(d == nullptr);
  CHECK(std::string(breadth_last_error()).find("max-uniq-sum") != std::string::npos);
  o.equivalence = "no-such-equivalence";
  CHECK(breadth_divcov_evaluate("q", answers, 4, &o, &d) == BREADTH_ERR_INVALID_ARGUMENT);
  o.equivalence = nullptr;
  o.budget = 2;  // 4 answers exceed B = 2
  CHECK(breadth_divcov_evaluate("q", answers, 4, &o, &d) == BREADTH_ERR_INVALID_ARGUMENT);
}

TEST_CASE("routing with a saved router", "[capi]") {
  // Six queries in two directions of a 2-d feature space; model "a" wins the first three, "b" the rest.
  std::vector<breadth::RoutingRow> rows;
  const double feats[6][2] = {{1, 0.1}, {1, 0.2}, {1, -0.1}, {0.1, 1}, {-0.2, 1}, {0.1, 1.1}};
  for (int q = 0; q < 6; ++q)
    for (const char* m : {"a", "b"}) {
      breadth::RoutingRow r;
      r.query_id = "q" + std::to_string(q);
      r.query = "query " + std::to_string(q);
      r.model = m;
      bool a_wins = q < 3;
      r.figures.div_cov = (std::string(m) == "a") == a_wins ? 0.8 : 0.2;
      rows.push_back(r);
    }
  auto table = breadth::make_routing_table(rows);
  breadth::Features f;
  f.mats = {torch::zeros({6, 2}, torch::kFloat32)};
  for (int q = 0; q < 6; ++q)
    for (int d = 0; d < 2; ++d) f.mats[0][q][d] = feats[q][d];
  breadth::Split split;
  split.train = split.val = {0, 1, 2, 3, 4, 5};
  breadth::TrainOptions to;
  to.kind = breadth::RouterKind::kKnn;
  to.knn_k = 1;
  auto dir = temp_dir("router") + "/router";
  breadth::train_router(table, f, split, to)->save(dir);

  breadth_router* r = nullptr;
  REQUIRE(breadth_router_load(dir.c_str(), &r) == BREADTH_OK);
  size_t pool = 0;
  REQUIRE(breadth_router_pool_size(r, &pool) == BREADTH_OK);
  REQUIRE(pool == 2);
  const char* name = nullptr;
  REQUIRE(breadth_router_model_name(r, 1, &name) == BREADTH_OK);
  CHECK(std::string(name) == "b");
  int specific = -1;
  REQUIRE(breadth_router_model_specific(r, &specific) == BREADTH_OK);
  CHECK(specific == 0);
  int64_t dim = 0;
  REQUIRE(breadth_router_feature_dim(r, 0, &dim) == BREADTH_OK);
  CHECK(dim == 2);

  const float near_a[] = {0.9f, 0.0f}, near_b[] = {0.0f, 2.0f};
  const float* fa[] = {near_a};
  const float* fb[] = {near_b};
  int64_t dims[] = {2};
  size_t idx[2];
  int64_t budgets[2];
  double scores[2];
  REQUIRE(breadth_router_pick(r, fa, dims, 1, 1, 50, nullptr, 0, idx, budgets, scores) == BREADTH_OK);
  CHECK(idx[0] == 0);
  CHECK(budgets[0] == 50);
  CHECK(scores[0] == Approx(0.8));
  REQUIRE(breadth_router_pick(r, fb, dims, 1, 2, 51, nullptr, 0, idx, budgets, nullptr) == BREADTH_OK);
  CHECK(idx[0] == 1);
  CHECK(idx[1] == 0);
  CHECK(budgets[0] == 26);  // the remainder goes to the better-ranked model
  CHECK(budgets[1] == 25);
  double ratios[] = {3, 1};
  REQUIRE(breadth_router_pick(r, fb, dims, 1, 2, 40, ratios, 2, idx, budgets, nullptr) == BREADTH_OK);
  CHECK(budgets[0] == 30);
  CHECK(budgets[1] == 10);

  int64_t wrong[] = {3};
  const float three[] = {1, 2, 3};
  const float* f3[] = {three};
  CHECK(breadth_router_pick(r, f3, wrong, 1, 1, 50, nullptr, 0, idx, budgets, nullptr) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(breadth_router_model_name(r, 2, &name) == BREADTH_ERR_INVALID_ARGUMENT);
  // A feature router does not route texts.
  CHECK(breadth_router_pick_text(r, "Name a prime.", 1, 50, nullptr, 0, idx, budgets, nullptr) ==
        BREADTH_ERR_INVALID_ARGUMENT);
  breadth_router_free(r);
  remove_tree(dir.substr(0, dir.rfind('/')));

  CHECK(breadth_router_load("/nonexistent/router", &r) == BREADTH_ERR_IO);
  CHECK(r == nullptr);
}

TEST_CASE("a fine-tuned BERT router loads and routes query texts through the C API", "[capi][bert]") {
  // Trained in C++ with the options of the PyTorch reference (make_bert_router_reference.py); the
  // C picks must follow the reference's scores.
  const std::string fx = breadth::test::fixtures_dir() + "/bert_router_reference";
  std::ifstream in(fx + "/reference.json");
  REQUIRE(in);
  auto ref = nlohmann::json::parse(in);
  auto table = breadth::load_routing_table(fx + "/table.jsonl");
  auto o = breadth::test::bert_reference_options(ref["options"], fx + "/encoder");
  breadth::Split split{ref["split"]["train"].get<std::vector<int64_t>>(), ref["split"]["val"].get<std::vector<int64_t>>(),
                       ref["split"]["test"].get<std::vector<int64_t>>()};
  auto dir = temp_dir("bert-router") + "/router";
  breadth::train_bert_router(table, split, o)->save(dir);
  breadth_router* r = nullptr;
  REQUIRE(breadth_router_load(dir.c_str(), &r) == BREADTH_OK);
  size_t pool = 0;
  REQUIRE(breadth_router_pool_size(r, &pool) == BREADTH_OK);
  REQUIRE(pool == 3);
  for (size_t q = 0; q < table.queries.size(); ++q) {
    size_t idx[3];
    int64_t budgets[3];
    double scores[3];
    REQUIRE(breadth_router_pick_text(r, table.queries[q].c_str(), 3, 30, nullptr, 0, idx, budgets, scores) ==
            BREADTH_OK);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(std::fabs(scores[i] - ref["scores"][q][idx[i]].get<double>()) < 2e-5);
      CHECK(budgets[i] == 10);
      if (i > 0) CHECK(scores[i - 1] >= scores[i]);
    }
  }
  CHECK(breadth_router_pick_text(r, nullptr, 1, 30, nullptr, 0, nullptr, nullptr, nullptr) ==
        BREADTH_ERR_INVALID_ARGUMENT);
  breadth_router_free(r);
  remove_tree(dir.substr(0, dir.rfind('/')));
}

TEST_CASE("sentence encoder embeddings", "[capi]") {
  auto path = breadth::test::models_dir() + "/all-minilm-l6-v2";
  if (!BREADTH_REQUIRE_INPUT(path + "/model.safetensors")) return;
  breadth_encoder* e = nullptr;
  REQUIRE(breadth_encoder_load(path.c_str(), &e) == BREADTH_OK);
  const char* texts[] = {"A cat sat on the mat.", "A kitten sat on the rug.", "Stock prices fell sharply."};
  breadth_floats out{};
  REQUIRE(breadth_encoder_embed(e, texts, 3, &out) == BREADTH_OK);
  REQUIRE(out.rows == 3);
  REQUIRE(out.cols == 384);
  auto dot = [&](size_t i, size_t j) {
    double s = 0;
    for (size_t k = 0; k < out.cols; ++k) s += double(out.data[i * out.cols + k]) * out.data[j * out.cols + k];
    return s;
  };
  CHECK(dot(0, 0) == Approx(1.0).epsilon(1e-4));  // the checkpoint normalizes
  CHECK(dot(0, 1) > dot(0, 2));                   // paraphrases are closer than unrelated text
  breadth_floats_free(&out);
  CHECK(out.data == nullptr);
  breadth_encoder_free(e);
  CHECK(breadth_encoder_load("/nonexistent/encoder", &e) == BREADTH_ERR_IO);
}

TEST_CASE("a GGUF's blocks stay quantized with BREADTH_WEIGHTS_NATIVE", "[capi]") {
  // The real SmolLM2 file (Q4_1 projections, Q8_0 tied embedding): native holds its blocks (about
  // 5 and 8.5 bits a weight), float expands them to 32 bits; the C face passes the option through
  // and reports what the library holds.
  auto path = breadth::test::models_dir() + "/smollm2-135m-instruct.gguf";
  if (!BREADTH_REQUIRE_INPUT(path)) return;
  int64_t bytes[2] = {0, 0};
  const breadth_weight_format formats[2] = {BREADTH_WEIGHTS_NATIVE, BREADTH_WEIGHTS_FLOAT};
  for (int i = 0; i < 2; ++i) {
    breadth_model_options o = BREADTH_MODEL_OPTIONS_INIT;
    o.weights = formats[i];
    breadth_model* m = nullptr;
    REQUIRE(breadth_model_load(path.c_str(), &o, &m) == BREADTH_OK);
    REQUIRE(breadth_model_weight_bytes(m, &bytes[i]) == BREADTH_OK);
    breadth_model_free(m);
  }
  // float: every parameter at 4 bytes (134,515,008 of them, the tied table once).
  CHECK(bytes[1] == 4 * int64_t{134515008});
  CHECK(bytes[0] * 3 < bytes[1]);
  CHECK(breadth_model_weight_bytes(nullptr, &bytes[0]) == BREADTH_ERR_INVALID_ARGUMENT);
}
