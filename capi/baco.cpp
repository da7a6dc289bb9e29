// C API: BACO rules (by name, cascades, C callbacks) and the BACO decoder.
#include <cmath>

#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

using namespace breadth::capi;

namespace {

static_assert(BREADTH_REASON_RULE == int(breadth::ChoiceReason::kRule) &&
                  BREADTH_REASON_FIRST_TOKEN == int(breadth::ChoiceReason::kFirstToken) &&
                  BREADTH_REASON_IN_WORD == int(breadth::ChoiceReason::kInWord) &&
                  BREADTH_REASON_EOS_HANDOFF == int(breadth::ChoiceReason::kEosHandoff),
              "breadth_choice_reason mirrors breadth::ChoiceReason");
static_assert(BREADTH_BACO_CHOICE_ALIGNED == 0 && BREADTH_BACO_CHOICE_BASE == 1,
              "breadth_baco_choice values are ABI");

breadth_step_view c_view(const breadth::StepView& v) {
  breadth_step_view c;
  c.has_base = v.has_base;
  c.has_aligned = v.has_aligned;
  c.p_base_max = v.p_base_max;
  c.p_aligned_max = v.p_aligned_max;
  c.h_base = v.h_base;
  c.h_aligned = v.h_aligned;
  c.base_candidate = v.base_candidate;
  c.aligned_candidate = v.aligned_candidate;
  c.aligned_top1 = v.aligned_top1;
  c.base_candidate_punct = v.base_candidate_punct;
  c.base_candidate_function = v.base_candidate_function;
  c.aligned_top1_punct = v.aligned_top1_punct;
  c.aligned_top1_function = v.aligned_top1_function;
  c.u = v.u;
  c.position = v.position;
  c.row = v.row;
  c.prompt = v.prompt.data();
  c.prompt_len = v.prompt.size();
  c.generated = v.generated.data();
  c.generated_len = v.generated.size();
  return c;
}

breadth_rule* new_rule(breadth::RulePtr rule) {
  auto r = std::make_unique<breadth_rule>();
  r->name = rule->name();
  r->rule = std::move(rule);
  return r.release();
}

const breadth::BacoDecoder& decoder_of(const breadth_baco* baco, const char* fn) {
  BREADTH_C_REQUIRE(baco, std::string(fn) + ": baco is NULL; create one with breadth_baco_create");
  return *baco->decoder;
}

const breadth::BacoResult& result_of(const breadth_baco_result* r, const char* fn) {
  BREADTH_C_REQUIRE(r, std::string(fn) + ": result is NULL");
  return r->result;
}

breadth_baco_result* wrap(breadth::BacoResult&& r) {
  auto out = std::make_unique<breadth_baco_result>();
  out->result = std::move(r);
  return out.release();
}

}  // namespace

extern "C" {

breadth_status breadth_rule_parse(const char* spec, breadth_rule** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(spec && out, "breadth_rule_parse: spec and out must not be NULL");
    *out = nullptr;
    *out = new_rule(breadth::make_rule(spec));
  })
}

breadth_status breadth_rule_from_callback(const char* name, breadth_rule_callback fn, unsigned int needs,
                                          void* user_data, breadth_rule** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(name && fn && out, "breadth_rule_from_callback: name, fn and out must not be NULL");
    *out = nullptr;
    BREADTH_C_REQUIRE(needs >= 1 && needs <= BREADTH_NEEDS_BOTH,
                      "breadth_rule_from_callback: needs must be BREADTH_NEEDS_BASE, BREADTH_NEEDS_ALIGNED "
                      "or BREADTH_NEEDS_BOTH, got " + std::to_string(needs));
    std::string rule_name = name;
    auto call = [fn, user_data, rule_name](const breadth::StepView& v) {
      breadth_step_view c = c_view(v);
      int r = fn(&c, user_data);
      if (r == BREADTH_BACO_CHOICE_BASE) return breadth::BacoChoice::kBase;
      if (r == BREADTH_BACO_CHOICE_ALIGNED) return breadth::BacoChoice::kAligned;
      throw breadth::InvalidArgument("rule callback '" + rule_name + "' returned " + std::to_string(r) +
                                     "; return BREADTH_BACO_CHOICE_BASE (1) or BREADTH_BACO_CHOICE_ALIGNED (0)");
    };
    *out = new_rule(breadth::function_rule(rule_name, call, static_cast<breadth::Needs>(needs)));
  })
}

breadth_status breadth_rule_cascade(const breadth_rule* const* stages, size_t num_stages, const char* name,
                                    breadth_rule** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(stages && out && num_stages > 0,
                      "breadth_rule_cascade: give at least one stage, and out must not be NULL");
    *out = nullptr;
    std::vector<breadth::RulePtr> rules;
    for (size_t i = 0; i < num_stages; ++i) {
      BREADTH_C_REQUIRE(stages[i], "breadth_rule_cascade: stages[" + std::to_string(i) + "] is NULL");
      rules.push_back(stages[i]->rule);
    }
    *out = new_rule(breadth::cascade(std::move(rules), name ? name : ""));
  })
}

void breadth_rule_free(breadth_rule* rule) { delete rule; }

breadth_status breadth_rule_name(const breadth_rule* rule, const char** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(rule && out, "breadth_rule_name: rule and out must not be NULL");
    *out = rule->name.c_str();
  })
}

breadth_status breadth_baco_create(const breadth_model* base, const breadth_model* aligned, breadth_baco** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(base && aligned && out, "breadth_baco_create: base, aligned and out must not be NULL");
    *out = nullptr;
    auto b = std::make_unique<breadth_baco>();
    b->decoder = std::make_unique<breadth::BacoDecoder>(base->model, aligned->model);
    *out = b.release();
  })
}

void breadth_baco_free(breadth_baco* baco) { delete baco; }

breadth_status breadth_baco_shared_vocabulary(const breadth_baco* baco, int* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_baco_shared_vocabulary: out must not be NULL");
    *out = decoder_of(baco, "breadth_baco_shared_vocabulary").shared_vocabulary() ? 1 : 0;
  })
}

breadth_status breadth_baco_generate(const breadth_baco* baco, const char* const* prompts, size_t num_prompts,
                                     const breadth_rule* rule, const breadth_baco_options* options,
                                     breadth_baco_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_baco_generate: out must not be NULL");
    *out = nullptr;
    const auto& dec = decoder_of(baco, "breadth_baco_generate");
    BREADTH_C_REQUIRE(rule, "breadth_baco_generate: rule is NULL; make one with breadth_rule_parse");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    *out = wrap(dec.generate(texts, *rule->rule, baco_options_of(options)));
  })
}

breadth_status breadth_baco_generate_spec(const breadth_baco* baco, const char* const* prompts,
                                          size_t num_prompts, const char* rule_spec,
                                          const breadth_baco_options* options, breadth_baco_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_baco_generate_spec: out must not be NULL");
    *out = nullptr;
    const auto& dec = decoder_of(baco, "breadth_baco_generate_spec");
    BREADTH_C_REQUIRE(rule_spec, "breadth_baco_generate_spec: rule_spec is NULL (e.g. \"p-punc:0.3\")");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    *out = wrap(dec.generate(texts, std::string(rule_spec), baco_options_of(options)));
  })
}

breadth_status breadth_baco_sweep(const breadth_baco* baco, const char* const* prompts, size_t num_prompts,
                                  const char* rule_name, const double* gammas, size_t num_gammas,
                                  const breadth_baco_options* options, breadth_baco_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out || num_gammas == 0, "breadth_baco_sweep: out must not be NULL");
    for (size_t i = 0; i < num_gammas; ++i) out[i] = nullptr;
    const auto& dec = decoder_of(baco, "breadth_baco_sweep");
    BREADTH_C_REQUIRE(rule_name, "breadth_baco_sweep: rule_name is NULL (e.g. \"p-punc\")");
    BREADTH_C_REQUIRE(gammas || num_gammas == 0, "breadth_baco_sweep: gammas is NULL");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    auto points = dec.sweep(texts, rule_name, std::vector<double>(gammas, gammas + num_gammas),
                            baco_options_of(options));
    for (size_t i = 0; i < points.size() && i < num_gammas; ++i) out[i] = wrap(std::move(points[i].result));
  })
}

void breadth_baco_result_free(breadth_baco_result* result) { delete result; }

breadth_status breadth_baco_result_rule(const breadth_baco_result* result, const char** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_baco_result_rule: out must not be NULL");
    *out = result_of(result, "breadth_baco_result_rule").rule.c_str();
  })
}

breadth_status breadth_baco_result_count(const breadth_baco_result* result, size_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_baco_result_count: out must not be NULL");
    *out = result_of(result, "breadth_baco_result_count").samples.size();
  })
}

breadth_status breadth_baco_result_get(const breadth_baco_result* result, size_t index, breadth_baco_sample* out) {
  BREADTH_C_TRY({
    check_view(out, "breadth_baco_result_get");
    const auto& r = result_of(result, "breadth_baco_result_get");
    const auto& s = element_at(r.samples, index, "breadth_baco_result_get", "index", "the result", "samples");
    breadth_baco_sample v{};
    v.prompt_index = s.prompt_index;
    v.sample_index = s.sample_index;
    v.text = s.text.c_str();
    v.text_len = s.text.size();
    v.num_tokens = s.tokens.size();
    v.length = s.length();
    v.base_tokens = s.base_tokens();
    v.switches = s.switches();
    v.retries = s.retries;
    v.finish = finish_of(s.finish);
    write_view(out, v);
  })
}

breadth_status breadth_baco_result_token(const breadth_baco_result* result, size_t sample, size_t token,
                                         breadth_token_record* out) {
  BREADTH_C_TRY({
    check_view(out, "breadth_baco_result_token");
    const auto& r = result_of(result, "breadth_baco_result_token");
    const auto& toks = element_at(r.samples, sample, "breadth_baco_result_token", "sample", "the result", "samples").tokens;
    const auto& t = element_at(toks, token, "breadth_baco_result_token", "token", "sample " + std::to_string(sample),
                               "tokens");
    breadth_token_record v{};
    v.id = t.id;
    v.source = t.source == breadth::TokenSource::kBase ? BREADTH_SOURCE_BASE : BREADTH_SOURCE_ALIGNED;
    v.reason = static_cast<breadth_choice_reason>(t.reason);
    v.eos = t.eos ? 1 : 0;
    v.text = t.text.c_str();
    v.text_len = t.text.size();
    v.p_base_max = t.p_base_max;
    v.p_aligned_max = t.p_aligned_max;
    v.h_base = t.h_base;
    v.h_aligned = t.h_aligned;
    v.base_candidate = t.base_candidate;
    v.aligned_candidate = t.aligned_candidate;
    v.aligned_top1 = t.aligned_top1;
    v.eos_redraws = t.eos_redraws;
    write_view(out, v);
  })
}

breadth_status breadth_baco_result_summary(const breadth_baco_result* result, breadth_baco_summary* out) {
  BREADTH_C_TRY({
    check_view(out, "breadth_baco_result_summary");
    const auto& m = result_of(result, "breadth_baco_result_summary").summary;
    breadth_baco_summary v{};
    v.samples = m.samples;
    v.tokens = m.tokens;
    v.base_tokens = m.base_tokens;
    v.base_share = m.base_share;
    v.switches = m.switches;
    v.mean_length = m.mean_length;
    v.eos_finished = m.eos_finished;
    v.retries = m.retries;
    write_view(out, v);
  })
}

}  // extern "C"
