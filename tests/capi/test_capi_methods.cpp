// The C API of BACO's comparison methods on the bindings fixture's tiny models: the logit ensemble
// at w = 0 equals breadth_generate on the aligned model, sweeps equal their single calls, and errors
// come back as status codes with messages.
#include <cstring>
#include <string>
#include <vector>

#include "breadth.h"
#include "common/test_env.hpp"

namespace {

breadth_model* load_role(const std::string& role) {
  breadth_model* m = nullptr;
  const auto path = breadth::test::fixtures_dir() + "/bindings/" + role;
  breadth_status s = breadth_model_load(path.c_str(), nullptr, &m);
  INFO(breadth_last_error());
  REQUIRE(s == BREADTH_OK);
  return m;
}

std::vector<std::vector<int32_t>> ids_of(const breadth_method_result* r) {
  size_t n = 0;
  REQUIRE(breadth_method_result_count(r, &n) == BREADTH_OK);
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < n; ++i) {
    breadth_method_sample s = BREADTH_METHOD_SAMPLE_INIT;
    REQUIRE(breadth_method_result_get(r, i, &s) == BREADTH_OK);
    CHECK(std::strlen(s.text) == s.text_len);
    out.emplace_back(s.tokens, s.tokens + s.num_tokens);
  }
  return out;
}

std::vector<std::vector<int32_t>> ids_of(const breadth_generation* g) {
  size_t n = 0;
  REQUIRE(breadth_generation_count(g, &n) == BREADTH_OK);
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < n; ++i) {
    breadth_sample s = BREADTH_SAMPLE_INIT;
    REQUIRE(breadth_generation_get(g, i, &s) == BREADTH_OK);
    out.emplace_back(s.tokens, s.tokens + s.num_tokens);
  }
  return out;
}

}  // namespace

TEST_CASE("methods: logit ensemble, sweeps, response ensemble, NUDGING", "[capi][methods]") {
  breadth_model* base = load_role("base");
  breadth_model* aligned = load_role("aligned");
  const char* prompts[] = {"Tell me a story about a cat.", "Name a color, please!"};

  breadth_method_options o;
  REQUIRE(breadth_method_options_init(&o, BREADTH_METHOD_OPTIONS_VERSION) == BREADTH_OK);
  CHECK(o.num_samples == 10);
  CHECK(o.sampling.top_p == 0.9);
  CHECK(o.w == 0.5);
  CHECK(o.ratio == 0.5);
  CHECK(o.base_template == nullptr);
  o.num_samples = 3;
  o.max_new_tokens = 10;
  o.seed = 5;
  o.w = 0.0;

  // w = 0: aligned sampling with the same sampling settings.
  breadth_method_result* ens = nullptr;
  REQUIRE(breadth_logit_ensemble(base, aligned, prompts, 2, &o, &ens) == BREADTH_OK);
  breadth_generate_options g;
  REQUIRE(breadth_generate_options_init(&g, BREADTH_GENERATE_OPTIONS_VERSION) == BREADTH_OK);
  g.sampling = o.sampling;
  g.num_samples = 3;
  g.max_new_tokens = 10;
  g.seed = 5;
  breadth_generation* gen = nullptr;
  REQUIRE(breadth_generate(aligned, prompts, 2, &g, &gen) == BREADTH_OK);
  CHECK(ids_of(ens) == ids_of(gen));
  breadth_method_sample s = BREADTH_METHOD_SAMPLE_INIT;
  REQUIRE(breadth_method_result_get(ens, 4, &s) == BREADTH_OK);
  CHECK(s.prompt_index == 1);
  CHECK(s.sample_index == 1);
  CHECK(std::string(s.source) == "aligned");
  CHECK(breadth_method_result_get(ens, 6, &s) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("out of range") != std::string::npos);

  // The sweep's points equal single calls.
  const double ws[] = {0.0, 0.6};
  breadth_method_result* pts[2] = {nullptr, nullptr};
  REQUIRE(breadth_logit_ensemble_sweep(base, aligned, prompts, 2, ws, 2, &o, pts) == BREADTH_OK);
  CHECK(ids_of(pts[0]) == ids_of(ens));
  o.w = 0.6;
  breadth_method_result* single = nullptr;
  REQUIRE(breadth_logit_ensemble(base, aligned, prompts, 2, &o, &single) == BREADTH_OK);
  CHECK(ids_of(pts[1]) == ids_of(single));

  // Temperature sweep: each point is breadth_generate at that temperature.
  const double temps[] = {0.0, 1.3};
  breadth_method_result* tp[2] = {nullptr, nullptr};
  REQUIRE(breadth_temperature_sweep(aligned, prompts, 2, temps, 2, &o, tp) == BREADTH_OK);
  for (int k = 0; k < 2; ++k) {
    g.sampling.temperature = temps[k];
    breadth_generation* gk = nullptr;
    REQUIRE(breadth_generate(aligned, prompts, 2, &g, &gk) == BREADTH_OK);
    CHECK(ids_of(tp[k]) == ids_of(gk));
    breadth_generation_free(gk);
  }

  // Response ensemble: sources in order; NUDGING runs.
  o.ratio = 1.0 / 3.0;
  breadth_method_result* re = nullptr;
  REQUIRE(breadth_response_ensemble(base, aligned, prompts, 2, &o, &re) == BREADTH_OK);
  std::vector<std::string> sources;
  for (size_t i = 0; i < 6; ++i) {
    REQUIRE(breadth_method_result_get(re, i, &s) == BREADTH_OK);
    sources.emplace_back(s.source);
  }
  CHECK(sources == std::vector<std::string>{"base", "aligned", "aligned", "base", "aligned", "aligned"});
  breadth_method_result* nu = nullptr;
  REQUIRE(breadth_nudging(base, aligned, prompts, 2, &o, &nu) == BREADTH_OK);
  CHECK(ids_of(nu).size() == 6);

  // Errors.
  o.w = 2.0;
  breadth_method_result* bad = nullptr;
  CHECK(breadth_logit_ensemble(base, aligned, prompts, 2, &o, &bad) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(bad == nullptr);
  CHECK(std::string(breadth_last_error()).find("options.w") != std::string::npos);
  CHECK(breadth_logit_ensemble(nullptr, aligned, prompts, 2, &o, &bad) == BREADTH_ERR_INVALID_ARGUMENT);
  CHECK(std::string(breadth_last_error()).find("base is NULL") != std::string::npos);
  CHECK(breadth_method_options_init(&o, 99) == BREADTH_ERR_INVALID_ARGUMENT);

  for (auto* r : {ens, pts[0], pts[1], single, tp[0], tp[1], re, nu}) breadth_method_result_free(r);
  breadth_method_result_free(nullptr);
  breadth_generation_free(gen);
  breadth_model_free(base);
  breadth_model_free(aligned);
}
