// C API: the defaults of every option struct, taken from the C++ library's default-constructed
// options (they live there, once), and the *_init functions that hand them to callers.
#include "breadth/answer_set.hpp"
#include "breadth/baco.hpp"
#include "breadth/divcov.hpp"
#include "breadth/eval_io.hpp"
#include "breadth/model.hpp"
#include "breadth/router_pipeline.hpp"
#include "breadth/sampler.hpp"
#include "breadth/version.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

namespace breadth::capi {

void refuse_version(const char* what, const char* struct_name, const char* how, unsigned version,
                    unsigned current) {
  std::string m = std::string(what) + ": " + struct_name + " has version " + std::to_string(version) + ", ";
  if (version == 0)
    m += "i.e. it was not initialised; ";
  else
    m += "but this library (breadth " + std::string(breadth::version()) + ") reads versions 1 to " +
         std::to_string(current) + ": the program was built against a newer breadth.h than the library it "
         "runs with (use that header's library, or rebuild against this one); ";
  throw InvalidArgument(m + "declare the struct with " + how);
}

static breadth_sampling_options c_sampling(const SamplingOptions& s) {
  breadth_sampling_options c{};
  c.version = BREADTH_SAMPLING_OPTIONS_VERSION;
  c.temperature = s.temperature;
  c.top_k = s.top_k;
  c.top_p = s.top_p;
  c.min_p = s.min_p;
  return c;
}

template <>
breadth_model_options defaults_of<breadth_model_options>() {
  const ModelOptions m{};
  breadth_model_options c{};
  c.version = BREADTH_MODEL_OPTIONS_VERSION;
  c.device = nullptr;  // the library's device (ModelOptions::device)
  c.dtype = dtype_of(m.dtype);
  c.weights = m.weights == WeightFormat::kNative ? BREADTH_WEIGHTS_NATIVE : BREADTH_WEIGHTS_FLOAT;
  return c;
}

template <>
breadth_sampling_options defaults_of<breadth_sampling_options>() {
  return c_sampling(SamplingOptions{});
}

static breadth_generate_options c_generate(const GenerateOptions& g) {
  breadth_generate_options c{};
  c.version = BREADTH_GENERATE_OPTIONS_VERSION;
  c.sampling = c_sampling(g.sampling);
  c.num_samples = g.num_samples;
  c.max_new_tokens = g.max_new_tokens;
  c.seed = g.seed;
  c.first_sample_index = g.first_sample_index;
  c.stop_strings = nullptr;
  c.num_stop_strings = 0;
  c.stop_at_eos = g.stop_at_eos ? 1 : 0;
  c.apply_chat_template = g.apply_chat_template ? 1 : 0;
  c.cuda_graph = g.cuda_graph ? 1 : 0;
  return c;  // callbacks and user_data NULL
}

template <>
breadth_generate_options defaults_of<breadth_generate_options>() {
  return c_generate(GenerateOptions{});
}

/// Version 1 of breadth_answer_set_options embedded the generation options: those of AnswerSetOptions.
static breadth_generate_options answer_generation_defaults_c() { return c_generate(AnswerSetOptions{}.generation); }

template <>
breadth_question defaults_of<breadth_question>() {
  breadth_question c{};
  c.version = BREADTH_QUESTION_VERSION;
  c.kind = question_kind_of(Question{}.kind);
  return c;  // text NULL (required); item, items, text_one, text_two NULL = the library's
}

template <>
breadth_answer_set_options defaults_of<breadth_answer_set_options>() {
  const AnswerSetOptions a{};
  breadth_answer_set_options c{};
  c.version = BREADTH_ANSWER_SET_OPTIONS_VERSION;
  c.strategy = strategy_of(a.strategy);
  c.budget = a.budget;
  c.ratios = nullptr;  // equal shares (AnswerSetOptions::ratios empty)
  c.num_ratios = 0;
  c.batch = a.batch;
  c.max_generations = a.max_generations;
  c.generation = nullptr;  // AnswerSetOptions::generation
  return c;
}

template <>
breadth_baco_options defaults_of<breadth_baco_options>() {
  const BacoOptions b{};
  breadth_baco_options c{};
  c.version = BREADTH_BACO_OPTIONS_VERSION;
  c.base_sampling = c_sampling(b.base_sampling);
  c.aligned_sampling = c_sampling(b.aligned_sampling);
  c.num_samples = b.num_samples;
  c.max_new_tokens = b.max_new_tokens;
  c.seed = b.seed;
  c.has_base_seed = b.base_seed ? 1 : 0;
  c.base_seed = b.base_seed.value_or(0);
  c.first_sample_index = b.first_sample_index;
  c.min_new_tokens = b.min_new_tokens;
  c.max_retries = b.max_retries;
  c.lazy = b.lazy ? 1 : 0;
  c.ignore_eos = b.ignore_eos ? 1 : 0;
  c.step = b.step == BacoStep::kResident      ? BREADTH_BACO_STEP_RESIDENT
           : b.step == BacoStep::kHostDriven ? BREADTH_BACO_STEP_HOST_DRIVEN
                                             : BREADTH_BACO_STEP_AUTO;
  return c;  // callbacks, user_data and base_template (the library's default prompt) NULL
}

template <>
breadth_divcov_options defaults_of<breadth_divcov_options>() {
  const DivCovOptions d{};
  breadth_divcov_options c{};
  c.version = BREADTH_DIVCOV_OPTIONS_VERSION;
  c.equivalence = nullptr;  // "exact"
  c.scores = nullptr;
  // The scale of per-answer `scores`: the library's for scores given with an answer set.
  c.max_score = RecordEvalOptions{}.score_max;
  c.gold = nullptr;
  c.num_gold = 0;
  c.budget = d.budget;
  c.patience = d.patience;
  return c;
}

// The router's steps (breadth/router_pipeline.hpp): strings and arrays NULL (the library's).
template <>
breadth_routing_data_options defaults_of<breadth_routing_data_options>() {
  const RoutingDataOptions d{};
  const auto& a = d.sampler.answers;
  breadth_routing_data_options c{};
  c.version = BREADTH_ROUTING_DATA_OPTIONS_VERSION;
  c.limit = d.limit;
  c.strategy = strategy_of(a.strategy);
  c.question_kind = question_kind_of(d.sampler.kind);
  c.budget = a.budget;
  c.batch = a.batch;
  c.max_generations = a.max_generations;
  c.max_new_tokens = a.generation.max_new_tokens;
  c.seed = a.generation.seed;
  return c;
}

// The MLP grid's training fields and the BERT router's fields, which the training and the report
// options both carry.
template <typename C>
void put_grid(C& c, const MlpGrid& g) {
  c.max_epochs = g.max_epochs;
  c.patience = g.patience;
  c.batch_size = g.batch_size;
}

template <typename C>
void put_bert(C& c, const BertRouterOptions& b) {
  c.bert_max_epochs = b.max_epochs;
  c.bert_patience = b.patience;
  c.bert_batch_size = b.batch_size;
  c.bert_max_length = b.max_length;
  c.bert_learning_rate = b.learning_rate;
  c.bert_weight_decay = b.weight_decay;
}

template <>
breadth_router_train_options defaults_of<breadth_router_train_options>() {
  const RouterTrainingOptions d{};
  breadth_router_train_options c{};
  c.version = BREADTH_ROUTER_TRAIN_OPTIONS_VERSION;
  c.knn_k = d.train.knn_k;
  c.seed = d.train.seed;
  c.split_seed = d.split_seed;
  put_grid(c, d.train.grid);
  put_bert(c, d.bert);
  return c;
}

template <>
breadth_routing_report_options defaults_of<breadth_routing_report_options>() {
  const RoutingReportRunOptions d{};
  breadth_routing_report_options c{};
  c.version = BREADTH_ROUTING_REPORT_OPTIONS_VERSION;
  c.seeds = d.report.seeds;
  c.first_seed = d.report.first_seed;
  c.budget = d.report.budget;
  c.split_seed = d.split_seed;
  put_grid(c, d.report.grid);
  put_bert(c, d.bert);
  return c;
}

}  // namespace breadth::capi

using namespace breadth::capi;

extern "C" {

breadth_status breadth_model_options_init(breadth_model_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_model_options_init"); })
}

breadth_status breadth_sampling_options_init(breadth_sampling_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_sampling_options_init"); })
}

breadth_status breadth_generate_options_init(breadth_generate_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_generate_options_init"); })
}

breadth_status breadth_question_init(breadth_question* question, unsigned int version) {
  BREADTH_C_TRY({ init_struct(question, version, "breadth_question_init"); })
}

breadth_status breadth_answer_set_options_init(breadth_answer_set_options* options, unsigned int version) {
  BREADTH_C_TRY({
    if (version == 1) {  // the version 1 layout: generation options embedded by value
      BREADTH_C_REQUIRE(options, "breadth_answer_set_options_init: the struct to fill must not be NULL");
      const auto d = defaults_of<breadth_answer_set_options>();
      answer_set_options_v1 v1{};
      v1.version = 1;
      v1.strategy = d.strategy;
      v1.budget = d.budget;
      v1.ratios = d.ratios;
      v1.num_ratios = d.num_ratios;
      v1.batch = d.batch;
      v1.max_generations = d.max_generations;
      const auto g = answer_generation_defaults_c();
      std::memcpy(static_cast<void*>(&v1.generation), &g, sizeof v1.generation);
      v1.generation.version = 1;
      std::memcpy(static_cast<void*>(options), &v1, sizeof v1);
    } else {
      init_struct(options, version, "breadth_answer_set_options_init");
    }
  })
}

breadth_status breadth_baco_options_init(breadth_baco_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_baco_options_init"); })
}

breadth_status breadth_divcov_options_init(breadth_divcov_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_divcov_options_init"); })
}

}  // extern "C"
