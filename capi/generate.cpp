// C API: plain generation (n samples per prompt) and answer sets.
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

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
    check_view(out, "breadth_generation_get");
    BREADTH_C_REQUIRE(generation, "breadth_generation_get: generation is NULL");
    const auto& s = element_at(generation->result.samples, index, "breadth_generation_get", "index", "the result",
                               "samples");
    breadth_sample v{};
    v.prompt_index = s.prompt_index;
    v.sample_index = s.sample_index;
    v.text = s.text.c_str();
    v.text_len = s.text.size();
    v.tokens = s.tokens.data();
    v.num_tokens = s.tokens.size();
    v.logprobs = s.logprobs.data();
    v.finish = finish_of(s.finish);
    v.sampling_logprobs = s.sampling_logprobs.data();
    write_view(out, v);
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
    BREADTH_C_REQUIRE(question, "breadth_collect_answers: question must not be NULL");
    const breadth_question cq = read_options(question, "question");
    BREADTH_C_REQUIRE(cq.text, "breadth_collect_answers: question->text must not be NULL");
    breadth::Question q;
    q.text = cq.text;
    q.kind = question_kind_of(c_enum(cq.kind));
    if (cq.item) q.item = cq.item;
    if (cq.items) q.items = cq.items;
    if (cq.text_one) q.text_one = cq.text_one;
    if (cq.text_two) q.text_two = cq.text_two;

    breadth::AnswerSetOptions a;
    if (options) {
      breadth_answer_set_options o{};
      breadth::GenerateOptions generation = a.generation;
      if (options->version == 1) {  // generation options embedded by value (answer_set_options_v1)
        answer_set_options_v1 v1;
        std::memcpy(&v1, static_cast<const void*>(options), sizeof v1);
        o.strategy = v1.strategy;
        o.budget = v1.budget;
        o.ratios = v1.ratios;
        o.num_ratios = v1.num_ratios;
        o.batch = v1.batch;
        o.max_generations = v1.max_generations;
        // A version 1 struct: read_options takes only its bytes.
        generation = generate_options_of(reinterpret_cast<const breadth_generate_options*>(&v1.generation),
                                         "options->generation");
      } else {
        o = read_options(options, "options");
        if (o.generation) generation = generate_options_of(o.generation, "options->generation");
      }
      a.strategy = strategy_of(c_enum(o.strategy));
      a.budget = o.budget;
      BREADTH_C_REQUIRE(o.ratios || o.num_ratios == 0, "options->ratios is NULL but num_ratios is not 0");
      a.ratios.assign(o.ratios, o.ratios + o.num_ratios);
      a.batch = o.batch;
      a.max_generations = o.max_generations;
      a.generation = std::move(generation);
    }
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
    check_view(out, "breadth_answer_set_get");
    BREADTH_C_REQUIRE(set, "breadth_answer_set_get: set is NULL");
    const auto& a = element_at(set->set.answers, index, "breadth_answer_set_get", "index", "the set", "answers");
    breadth_answer v{};
    v.text = a.text.c_str();
    v.text_len = a.text.size();
    v.model = a.model;
    v.generation = a.generation;
    write_view(out, v);
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
    const auto& m = element_at(set->set.models, model, "breadth_answer_set_model_stats", "model", "the set",
                               "sampled models");
    if (generations) *generations = m.generations;
    if (failed_generations) *failed_generations = m.failed_generations;
  })
}

static_assert(BREADTH_PARSER_NONE == int(breadth::AnswerParser::kNone) &&
                  BREADTH_PARSER_JSON == int(breadth::AnswerParser::kJson) &&
                  BREADTH_PARSER_BRACES == int(breadth::AnswerParser::kBraces) &&
                  BREADTH_PARSER_LIST == int(breadth::AnswerParser::kList) &&
                  BREADTH_PARSER_LINE == int(breadth::AnswerParser::kLine) && breadth::kAnswerParserCount == 5,
              "breadth_answer_parser mirrors breadth::AnswerParser");

breadth_status breadth_answer_set_parser_count(const breadth_answer_set* set, size_t model,
                                               breadth_answer_parser parser, int64_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(set && out, "breadth_answer_set_parser_count: set and out must not be NULL");
    BREADTH_C_REQUIRE(model < set->set.models.size(),
                      "breadth_answer_set_parser_count: model " + std::to_string(model) + " is out of range; " +
                          std::to_string(set->set.models.size()) + " models were sampled");
    const int raw = breadth::capi::c_enum(parser);
    const auto p = static_cast<size_t>(raw);
    BREADTH_C_REQUIRE(raw >= 0 && p < breadth::kAnswerParserCount,
                      "breadth_answer_set_parser_count: parser " + std::to_string(raw) +
                          " is not a breadth_answer_parser (BREADTH_PARSER_NONE .. BREADTH_PARSER_LINE)");
    *out = set->set.models[model].parsed_by[p];
  })
}

}  // extern "C"
