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

using namespace breadth::capi;

namespace {
const breadth::Router& router_of(const breadth_router* r, const char* fn) {
  BREADTH_C_REQUIRE(r, std::string(fn) + ": router is NULL; load one with breadth_router_load");
  return *r->router;
}
}  // namespace

extern "C" {

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
    const auto& pool = r.pool();
    for (size_t i = 0; i < d.models.size() && i < k; ++i) {
      model_indices[i] = static_cast<size_t>(std::find(pool.begin(), pool.end(), d.models[i]) - pool.begin());
      budgets[i] = d.budgets[i];
      if (scores) scores[i] = d.scores[i];
    }
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
    const auto& pool = r.pool();
    for (size_t i = 0; i < d.models.size() && i < k; ++i) {
      model_indices[i] = static_cast<size_t>(std::find(pool.begin(), pool.end(), d.models[i]) - pool.begin());
      budgets[i] = d.budgets[i];
      if (scores) scores[i] = d.scores[i];
    }
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
