// C API: saved routers (pick the best models for a query) and sentence encoders for their features.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "breadth/encoder.hpp"
#include "breadth/router.hpp"
#include "breadth/router_pipeline.hpp"  // load_router: every kind, the BERT router with its encoder
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

using namespace breadth::capi;

namespace {
const breadth::Router& router_of(const breadth_router* r, const char* fn) {
  BREADTH_C_REQUIRE(r, std::string(fn) + ": router is NULL; load one with breadth_router_load");
  return *r->router;
}
/// A step's FEATURES fields as the library's feature sources (NULL: the library's).
breadth::FeatureSources sources_of(const char* features_file, const char* encoder, const char* const* models,
                                   size_t num_models, const char* cache, const char* device, const char* fn) {
  breadth::FeatureSources s;
  if (features_file) s.features_file = features_file;
  if (encoder) s.encoder = encoder;
  BREADTH_C_REQUIRE(models || num_models == 0, std::string(fn) + ": options->models is NULL but num_models is not 0");
  if (num_models) s.models = strings_of(models, num_models, "options->models");
  if (cache) s.cache_dir = cache;
  if (device) s.model_options.device = s.encoder_options.device = breadth::parse_device(device, "options->device");
  return s;
}

/// The MLP grid fields of the train and report options (NULL arrays and labels: the library's).
template <typename C>
void grid_of(const C& c, breadth::MlpGrid& g, const char* fn) {
  BREADTH_C_REQUIRE(c.hidden || c.num_hidden == 0, std::string(fn) + ": options->hidden is NULL but num_hidden is not 0");
  BREADTH_C_REQUIRE(c.weight_decay || c.num_weight_decay == 0,
                    std::string(fn) + ": options->weight_decay is NULL but num_weight_decay is not 0");
  if (c.hidden) g.hidden.assign(c.hidden, c.hidden + c.num_hidden);
  if (c.weight_decay) g.weight_decay.assign(c.weight_decay, c.weight_decay + c.num_weight_decay);
  if (c.labels) g.labels = breadth::parse_label_types(c.labels);
  g.max_epochs = c.max_epochs;
  g.patience = c.patience;
  g.batch_size = c.batch_size;
}

template <typename C>
void bert_of(const C& c, breadth::BertRouterOptions& b) {
  b.max_epochs = c.bert_max_epochs;
  b.patience = c.bert_patience;
  b.batch_size = c.bert_batch_size;
  b.max_length = c.bert_max_length;
  b.learning_rate = c.bert_learning_rate;
  b.weight_decay = c.bert_weight_decay;
}

// A route's models (as pool indices), budgets and scores into the caller's arrays of length k.
void write_decision(const breadth::RouteDecision& d, const std::vector<std::string>& pool, size_t k,
                    size_t* model_indices, int64_t* budgets, double* scores) {
  for (size_t i = 0; i < d.models.size() && i < k; ++i) {
    model_indices[i] = static_cast<size_t>(std::find(pool.begin(), pool.end(), d.models[i]) - pool.begin());
    budgets[i] = d.budgets[i];
    if (scores) scores[i] = d.scores[i];
  }
}
}  // namespace

extern "C" {

breadth_status breadth_routing_data_options_init(breadth_routing_data_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_routing_data_options_init"); })
}

breadth_status breadth_router_train_options_init(breadth_router_train_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_router_train_options_init"); })
}

breadth_status breadth_routing_report_options_init(breadth_routing_report_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_routing_report_options_init"); })
}

breadth_status breadth_routing_data_build(const char* prompts, const char* const* models, size_t num_models,
                                          const char* out_table, const breadth_routing_data_options* options,
                                          int64_t* computed) {
  BREADTH_C_TRY({
    const char* fn = "breadth_routing_data_build";
    if (computed) *computed = 0;
    BREADTH_C_REQUIRE(prompts && out_table, std::string(fn) + ": prompts and out_table must not be NULL");
    BREADTH_C_REQUIRE(models && num_models > 0, std::string(fn) + ": give at least one model checkpoint");
    const auto c = read_options(options, std::string(fn) + ": options");
    breadth::RoutingDataOptions o;
    o.prompts = prompts;
    o.limit = c.limit;
    o.models = strings_of(models, num_models, "models");
    o.out = out_table;
    auto& a = o.sampler.answers;
    a.strategy = strategy_of(c_enum(c.strategy));
    o.sampler.kind = question_kind_of(c_enum(c.question_kind));
    a.budget = c.budget;
    a.batch = c.batch;
    a.max_generations = c.max_generations;
    a.generation.max_new_tokens = c.max_new_tokens;
    a.generation.seed = c.seed;
    if (c.equivalence) o.equivalence = c.equivalence;
    if (c.quality) o.quality = c.quality;
    o.features = sources_of(nullptr, c.encoder, nullptr, 0, c.feature_cache, c.device, fn);
    o.model_options = o.features.model_options;
    if (c.features_out) o.features_out = c.features_out;
    if (c.features) o.feature_kind = breadth::parse_feature_kind(c.features);
    o.on_progress = progress_of(c.on_progress, c.user_data);
    auto r = breadth::build_routing_data(o);
    if (computed) *computed = r.computed;
  })
}

breadth_status breadth_router_train(const char* table, const char* out_dir,
                                    const breadth_router_train_options* options) {
  BREADTH_C_TRY({
    const char* fn = "breadth_router_train";
    BREADTH_C_REQUIRE(table && out_dir, std::string(fn) + ": table and out_dir must not be NULL");
    const auto c = read_options(options, std::string(fn) + ": options");
    breadth::RouterTrainingOptions o;
    o.table = table;
    o.out = out_dir;
    if (c.features) o.feature_kind = breadth::parse_feature_kind(c.features);
    o.features = sources_of(c.features_file, c.encoder, c.models, c.num_models, c.feature_cache, c.device, fn);
    o.split_seed = c.split_seed;
    if (c.kind) o.train.kind = breadth::parse_router_kind(c.kind);
    o.train.knn_k = c.knn_k;
    o.train.seed = c.seed;
    grid_of(c, o.train.grid, fn);
    bert_of(c, o.bert);
    o.train.on_progress = progress_of(c.on_progress, c.user_data);
    breadth::train_router_from_files(o);
  })
}

breadth_status breadth_routing_report(const char* table, const breadth_routing_report_options* options,
                                      char** json) {
  BREADTH_C_TRY({
    const char* fn = "breadth_routing_report";
    if (json) *json = nullptr;
    BREADTH_C_REQUIRE(table, std::string(fn) + ": table must not be NULL");
    const auto c = read_options(options, std::string(fn) + ": options");
    breadth::RoutingReportRunOptions o;
    o.table = table;
    if (c.features) o.feature_kinds = breadth::parse_feature_kinds(c.features);
    o.features = sources_of(c.features_file, c.encoder, c.models, c.num_models, c.feature_cache, c.device, fn);
    o.split_seed = c.split_seed;
    o.report.seeds = c.seeds;
    o.report.first_seed = c.first_seed;
    o.report.budget = c.budget;
    grid_of(c, o.report.grid, fn);
    if (c.bert_encoder) o.bert_encoder = c.bert_encoder;
    bert_of(c, o.bert);
    if (c.json_out) o.json_out = c.json_out;
    if (c.markdown_out) o.markdown_out = c.markdown_out;
    o.report.on_progress = progress_of(c.on_progress, c.user_data);
    auto r = breadth::run_routing_report(o);
    if (json) *json = to_c_string(r.to_json());
  })
}

breadth_status breadth_router_load(const char* dir, breadth_router** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(dir && out, "breadth_router_load: dir and out must not be NULL");
    *out = nullptr;
    auto r = std::make_unique<breadth_router>();
    r->router = breadth::load_router(dir);
    *out = r.release();
  })
}

void breadth_router_free(breadth_router* router) { delete router; }

breadth_status breadth_router_pool_size(const breadth_router* router, size_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_router_pool_size: out must not be NULL");
    *out = router_of(router, "breadth_router_pool_size").pool().size();
  })
}

breadth_status breadth_router_model_name(const breadth_router* router, size_t index, const char** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_router_model_name: out must not be NULL");
    const auto& pool = router_of(router, "breadth_router_model_name").pool();
    *out = element_at(pool, index, "breadth_router_model_name", "index", "the pool", "models").c_str();
  })
}

breadth_status breadth_router_model_specific(const breadth_router* router, int* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_router_model_specific: out must not be NULL");
    *out = router_of(router, "breadth_router_model_specific").config().feature_kind ==
                   breadth::FeatureKind::kSpecific
               ? 1
               : 0;
  })
}

breadth_status breadth_router_feature_dim(const breadth_router* router, size_t index, int64_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_router_feature_dim: out must not be NULL");
    const auto& dims = router_of(router, "breadth_router_feature_dim").config().feature_dims;
    *out = element_at(dims, index, "breadth_router_feature_dim", "index", "the router's input",
                      "feature vectors");
  })
}

breadth_status breadth_router_pick(const breadth_router* router, const float* const* features,
                                   const int64_t* dims, size_t num_features, size_t k, int64_t budget,
                                   const double* ratios, size_t num_ratios, size_t* model_indices,
                                   int64_t* budgets, double* scores) {
  BREADTH_C_TRY({
    const auto& r = router_of(router, "breadth_router_pick");
    BREADTH_C_REQUIRE(features && dims && num_features > 0,
                      "breadth_router_pick: give the query's feature vector(s) and their lengths");
    BREADTH_C_REQUIRE(model_indices && budgets, "breadth_router_pick: model_indices and budgets must not be NULL");
    BREADTH_C_REQUIRE(ratios || num_ratios == 0, "breadth_router_pick: ratios is NULL but num_ratios is not 0");
    breadth::Features f;
    f.kind = r.config().feature_kind;
    for (size_t i = 0; i < num_features; ++i) {
      BREADTH_C_REQUIRE(features[i] && dims[i] > 0, "breadth_router_pick: features[" + std::to_string(i) +
                                                        "] is NULL or dims[" + std::to_string(i) + "] is not positive");
      f.mats.push_back(torch::from_blob(const_cast<float*>(features[i]), {1, dims[i]}, torch::kFloat32).clone());
    }
    auto d = breadth::route(r, f, 0, static_cast<int64_t>(k), budget,
                            std::vector<double>(ratios, ratios + num_ratios));
    write_decision(d, r.pool(), k, model_indices, budgets, scores);
  })
}

breadth_status breadth_router_pick_text(const breadth_router* router, const char* query, size_t k, int64_t budget,
                                        const double* ratios, size_t num_ratios, size_t* model_indices,
                                        int64_t* budgets, double* scores) {
  BREADTH_C_TRY({
    const auto& r = router_of(router, "breadth_router_pick_text");
    BREADTH_C_REQUIRE(query, "breadth_router_pick_text: query must not be NULL");
    BREADTH_C_REQUIRE(model_indices && budgets,
                      "breadth_router_pick_text: model_indices and budgets must not be NULL");
    BREADTH_C_REQUIRE(ratios || num_ratios == 0, "breadth_router_pick_text: ratios is NULL but num_ratios is not 0");
    auto d = breadth::route_text(r, query, static_cast<int64_t>(k), budget,
                                 std::vector<double>(ratios, ratios + num_ratios));
    write_decision(d, r.pool(), k, model_indices, budgets, scores);
  })
}

void breadth_floats_free(breadth_floats* floats) {
  if (!floats) return;
  std::free(floats->data);
  floats->data = nullptr;
  floats->rows = floats->cols = 0;
}

breadth_status breadth_encoder_load(const char* path, breadth_encoder** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(path && out, "breadth_encoder_load: path and out must not be NULL");
    *out = nullptr;
    auto e = std::make_unique<breadth_encoder>();
    e->encoder = breadth::Encoder::load(path);
    *out = e.release();
  })
}

void breadth_encoder_free(breadth_encoder* encoder) { delete encoder; }

breadth_status breadth_encoder_embed(const breadth_encoder* encoder, const char* const* texts, size_t num_texts,
                                     breadth_floats* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_encoder_embed: out must not be NULL");
    *out = breadth_floats{nullptr, 0, 0};
    BREADTH_C_REQUIRE(encoder, "breadth_encoder_embed: encoder is NULL; load one with breadth_encoder_load");
    auto items = strings_of(texts, num_texts, "texts");
    auto e = encoder->encoder->embed(items).to(torch::kCPU, torch::kFloat32).contiguous();
    const size_t n = static_cast<size_t>(e.numel());
    out->data = static_cast<float*>(std::malloc(std::max<size_t>(1, n) * sizeof(float)));
    if (!out->data) throw std::bad_alloc();
    std::memcpy(out->data, e.data_ptr<float>(), n * sizeof(float));
    out->rows = static_cast<size_t>(e.size(0));
    out->cols = e.dim() > 1 ? static_cast<size_t>(e.size(1)) : 0;
  })
}

}  // extern "C"
