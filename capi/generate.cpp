// C API: plain generation (n samples per prompt) and answer sets.
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"

using namespace breadth::capi;

namespace {
const breadth::CausalLM& model_of(const breadth_model* m, const char* what) {
  BREADTH_C_REQUIRE(m, std::string(what) + " is NULL; load one with breadth_model_load");
  return *m->model;
}
}  // namespace

extern "C" {

breadth_status breadth_generate(const breadth_model* model, const char* const* prompts, size_t num_prompts,
                                const breadth_generate_options* options, breadth_generation** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_generate: out must not be NULL");
    *out = nullptr;
    const auto& m = model_of(model, "breadth_generate: model");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    auto opts = generate_options_of(options, "options");
    auto g = std::make_unique<breadth_generation>();
    g->result = breadth::generate(m, texts, opts);
    *out = g.release();
  })
}

void breadth_generation_free(breadth_generation* generation) { delete generation; }

breadth_status breadth_generation_count(const breadth_generation* generation, size_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(generation && out, "breadth_generation_count: generation and out must not be NULL");
    *out = generation->result.samples.size();
  })
}

breadth_status breadth_generation_get(const breadth_generation* generation, size_t index, breadth_sample* out) {
  BREADTH_C_TRY({
    check_view(out, BREADTH_SAMPLE_VERSION, "breadth_generation_get");
    BREADTH_C_REQUIRE(generation, "breadth_generation_get: generation is NULL");
    const auto& samples = generation->result.samples;
    BREADTH_C_REQUIRE(index < samples.size(), "breadth_generation_get: index " + std::to_string(index) +
                                                  " is out of range; the result holds " +
                                                  std::to_string(samples.size()) + " samples");
    const auto& s = samples[index];
    out->prompt_index = s.prompt_index;
    out->sample_index = s.sample_index;
    out->text = s.text.c_str();
    out->text_len = s.text.size();
    out->tokens = s.tokens.data();
    out->num_tokens = s.tokens.size();
    out->logprobs = s.logprobs.data();
    out->finish = finish_of(s.finish);
  })
}

breadth_status breadth_collect_answers(const breadth_model* const* models, size_t num_models,
                                       const breadth_question* question,
                                       const breadth_answer_set_options* options, breadth_answer_set** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_collect_answers: out must not be NULL");
    *out = nullptr;
    BREADTH_C_REQUIRE(models && num_models > 0, "breadth_collect_answers: give at least one model");
    std::vector<std::shared_ptr<const breadth::CausalLM>> ms;
    for (size_t i = 0; i < num_models; ++i) {
      BREADTH_C_REQUIRE(models[i], "breadth_collect_answers: models[" + std::to_string(i) + "] is NULL");
      ms.push_back(models[i]->model);
    }
    BREADTH_C_REQUIRE(question && question->text, "breadth_collect_answers: question and question->text "
                                                  "must not be NULL");
    BREADTH_C_REQUIRE(question->version >= 1 && question->version <= BREADTH_QUESTION_VERSION,
                      "question->version is unknown; initialise it with BREADTH_QUESTION_INIT");
    breadth::Question q;
    q.text = question->text;
    BREADTH_C_REQUIRE(question->kind == BREADTH_QUESTION_OPEN || question->kind == BREADTH_QUESTION_FIXED,
                      "question->kind must be BREADTH_QUESTION_OPEN or BREADTH_QUESTION_FIXED");
    q.kind = question->kind == BREADTH_QUESTION_FIXED ? breadth::QuestionKind::kFixed : breadth::QuestionKind::kOpen;
    if (question->item) q.item = question->item;
    if (question->items) q.items = question->items;
    if (question->text_one) q.text_one = question->text_one;
    if (question->text_two) q.text_two = question->text_two;

    breadth_answer_set_options defaults = BREADTH_ANSWER_SET_OPTIONS_INIT;
    const breadth_answer_set_options& o = options ? *options : defaults;
    BREADTH_C_REQUIRE(o.version >= 1 && o.version <= BREADTH_ANSWER_SET_OPTIONS_VERSION,
                      "options->version is unknown; initialise it with BREADTH_ANSWER_SET_OPTIONS_INIT");
    breadth::AnswerSetOptions a;
    switch (o.strategy) {
      case BREADTH_STRATEGY_ONE: a.strategy = breadth::AnswerStrategy::kOne; break;
      case BREADTH_STRATEGY_TWO: a.strategy = breadth::AnswerStrategy::kTwo; break;
      case BREADTH_STRATEGY_ALL: a.strategy = breadth::AnswerStrategy::kAll; break;
      default: throw breadth::InvalidArgument("options->strategy must be a breadth_answer_strategy value");
    }
    a.budget = o.budget;
    BREADTH_C_REQUIRE(o.ratios || o.num_ratios == 0, "options->ratios is NULL but num_ratios is not 0");
    a.ratios.assign(o.ratios, o.ratios + o.num_ratios);
    a.batch = o.batch;
    a.max_generations = o.max_generations;
    a.generation = generate_options_of(&o.generation, "options->generation");
    auto set = std::make_unique<breadth_answer_set>();
    set->set = breadth::collect_answers(ms, q, a);
    *out = set.release();
  })
}

void breadth_answer_set_free(breadth_answer_set* set) { delete set; }

breadth_status breadth_answer_set_count(const breadth_answer_set* set, size_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(set && out, "breadth_answer_set_count: set and out must not be NULL");
    *out = set->set.answers.size();
  })
}

breadth_status breadth_answer_set_get(const breadth_answer_set* set, size_t index, breadth_answer* out) {
  BREADTH_C_TRY({
    check_view(out, BREADTH_ANSWER_VERSION, "breadth_answer_set_get");
    BREADTH_C_REQUIRE(set, "breadth_answer_set_get: set is NULL");
    BREADTH_C_REQUIRE(index < set->set.answers.size(),
                      "breadth_answer_set_get: index " + std::to_string(index) + " is out of range; the set holds " +
                          std::to_string(set->set.answers.size()) + " answers");
    const auto& a = set->set.answers[index];
    out->text = a.text.c_str();
    out->text_len = a.text.size();
    out->model = a.model;
    out->generation = a.generation;
  })
}

breadth_status breadth_answer_set_complete(const breadth_answer_set* set, int* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(set && out, "breadth_answer_set_complete: set and out must not be NULL");
    *out = set->set.complete ? 1 : 0;
  })
}

breadth_status breadth_answer_set_model_stats(const breadth_answer_set* set, size_t model, int64_t* generations,
                                              int64_t* failed_generations) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(set, "breadth_answer_set_model_stats: set is NULL");
    BREADTH_C_REQUIRE(model < set->set.models.size(),
                      "breadth_answer_set_model_stats: model " + std::to_string(model) + " is out of range; " +
                          std::to_string(set->set.models.size()) + " models were sampled");
    const auto& m = set->set.models[model];
    if (generations) *generations = m.generations;
    if (failed_generations) *failed_generations = m.failed_generations;
  })
}

}  // extern "C"
