// C API: BACO's comparison methods (breadth/methods.hpp): the temperature sweep, the logit and
// response ensembles and NUDGING, with one result handle.
#include "breadth/chat_template.hpp"
#include "breadth/methods.hpp"
#include "capi_internal.hpp"
#include "handles.hpp"
#include "marshal.hpp"
#include "versioned.hpp"

struct breadth_method_result {
  breadth::MethodResult result;
};

using namespace breadth::capi;

namespace breadth::capi {

template <>
breadth_method_options defaults_of<breadth_method_options>() {
  const breadth::MethodOptions m{};
  breadth_method_options c{};
  c.version = BREADTH_METHOD_OPTIONS_VERSION;
  c.sampling.version = BREADTH_SAMPLING_OPTIONS_VERSION;
  c.sampling.temperature = m.sampling.temperature;
  c.sampling.top_k = m.sampling.top_k;
  c.sampling.top_p = m.sampling.top_p;
  c.sampling.min_p = m.sampling.min_p;
  c.num_samples = m.num_samples;
  c.max_new_tokens = m.max_new_tokens;
  c.seed = m.seed;
  c.w = breadth::LogitEnsembleOptions{}.w;
  c.ratio = breadth::ResponseEnsembleOptions{}.ratio;
  c.threshold = breadth::NudgingOptions{}.threshold;
  return c;  // base_template (the library's default prompt), on_progress and user_data NULL
}

}  // namespace breadth::capi

namespace {

// The C options as a method's options struct O (MethodOptions, or a TwoModelOptions subclass).
template <typename O>
O method_options_of(const breadth_method_options* options) {
  const breadth_method_options c = read_options(options, "options");
  O o;
  o.sampling = sampling_of(c.sampling, "options->sampling");
  o.num_samples = c.num_samples;
  o.max_new_tokens = c.max_new_tokens;
  o.seed = c.seed;
  o.on_progress = progress_of(c.on_progress, c.user_data);
  if constexpr (std::is_base_of_v<breadth::TwoModelOptions, O>) {
    if (c.base_template) o.base_template = breadth::ChatTemplate::from_format(c.base_template);
  }
  if constexpr (std::is_same_v<O, breadth::LogitEnsembleOptions>) o.w = c.w;
  if constexpr (std::is_same_v<O, breadth::ResponseEnsembleOptions>) o.ratio = c.ratio;
  if constexpr (std::is_same_v<O, breadth::NudgingOptions>) o.threshold = c.threshold;
  return o;
}

std::shared_ptr<const breadth::CausalLM> model_of(const breadth_model* m, const std::string& what) {
  BREADTH_C_REQUIRE(m, what + " is NULL; load one with breadth_model_load");
  return m->model;
}

breadth_method_result* wrap(breadth::MethodResult r) {
  auto h = std::make_unique<breadth_method_result>();
  h->result = std::move(r);
  return h.release();
}

// Writes a sweep's points into out[0..count) (all NULL first, so a failure leaves nothing to free).
void sweep_out(std::vector<breadth::MethodSweepPoint> points, breadth_method_result** out, size_t count) {
  for (size_t i = 0; i < points.size() && i < count; ++i) out[i] = wrap(std::move(points[i].result));
}

}  // namespace

extern "C" {

breadth_status breadth_method_options_init(breadth_method_options* options, unsigned int version) {
  BREADTH_C_TRY({ init_struct(options, version, "breadth_method_options_init"); })
}

breadth_status breadth_logit_ensemble(const breadth_model* base, const breadth_model* aligned,
                                      const char* const* prompts, size_t num_prompts,
                                      const breadth_method_options* options, breadth_method_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_logit_ensemble: out must not be NULL");
    *out = nullptr;
    auto b = model_of(base, "breadth_logit_ensemble: base"), a = model_of(aligned, "breadth_logit_ensemble: aligned");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    *out = wrap(breadth::logit_ensemble(b, a, texts, method_options_of<breadth::LogitEnsembleOptions>(options)));
  })
}

breadth_status breadth_logit_ensemble_sweep(const breadth_model* base, const breadth_model* aligned,
                                            const char* const* prompts, size_t num_prompts, const double* ws,
                                            size_t num_ws, const breadth_method_options* options,
                                            breadth_method_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out || num_ws == 0, "breadth_logit_ensemble_sweep: out must not be NULL");
    for (size_t i = 0; i < num_ws; ++i) out[i] = nullptr;
    BREADTH_C_REQUIRE(ws || num_ws == 0, "breadth_logit_ensemble_sweep: ws is NULL");
    auto b = model_of(base, "breadth_logit_ensemble_sweep: base");
    auto a = model_of(aligned, "breadth_logit_ensemble_sweep: aligned");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    sweep_out(breadth::logit_ensemble_sweep(b, a, texts, std::vector<double>(ws, ws + num_ws),
                                            method_options_of<breadth::LogitEnsembleOptions>(options)),
              out, num_ws);
  })
}

breadth_status breadth_temperature_sweep(const breadth_model* model, const char* const* prompts, size_t num_prompts,
                                         const double* temperatures, size_t num_temperatures,
                                         const breadth_method_options* options, breadth_method_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out || num_temperatures == 0, "breadth_temperature_sweep: out must not be NULL");
    for (size_t i = 0; i < num_temperatures; ++i) out[i] = nullptr;
    BREADTH_C_REQUIRE(temperatures || num_temperatures == 0, "breadth_temperature_sweep: temperatures is NULL");
    auto m = model_of(model, "breadth_temperature_sweep: model");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    sweep_out(breadth::temperature_sweep(*m, texts, std::vector<double>(temperatures, temperatures + num_temperatures),
                                         method_options_of<breadth::MethodOptions>(options)),
              out, num_temperatures);
  })
}

breadth_status breadth_response_ensemble(const breadth_model* base, const breadth_model* aligned,
                                         const char* const* prompts, size_t num_prompts,
                                         const breadth_method_options* options, breadth_method_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_response_ensemble: out must not be NULL");
    *out = nullptr;
    auto b = model_of(base, "breadth_response_ensemble: base");
    auto a = model_of(aligned, "breadth_response_ensemble: aligned");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    *out = wrap(breadth::response_ensemble(b, a, texts, method_options_of<breadth::ResponseEnsembleOptions>(options)));
  })
}

breadth_status breadth_nudging(const breadth_model* base, const breadth_model* aligned, const char* const* prompts,
                               size_t num_prompts, const breadth_method_options* options,
                               breadth_method_result** out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(out, "breadth_nudging: out must not be NULL");
    *out = nullptr;
    auto b = model_of(base, "breadth_nudging: base"), a = model_of(aligned, "breadth_nudging: aligned");
    auto texts = strings_of(prompts, num_prompts, "prompts");
    *out = wrap(breadth::nudging(b, a, texts, method_options_of<breadth::NudgingOptions>(options)));
  })
}

void breadth_method_result_free(breadth_method_result* result) { delete result; }

breadth_status breadth_method_result_count(const breadth_method_result* result, size_t* out) {
  BREADTH_C_TRY({
    BREADTH_C_REQUIRE(result && out, "breadth_method_result_count: result and out must not be NULL");
    *out = result->result.samples.size();
  })
}

breadth_status breadth_method_result_get(const breadth_method_result* result, size_t index,
                                         breadth_method_sample* out) {
  BREADTH_C_TRY({
    check_view(out, "breadth_method_result_get");
    BREADTH_C_REQUIRE(result, "breadth_method_result_get: result is NULL");
    const auto& s = element_at(result->result.samples, index, "breadth_method_result_get", "index", "the result",
                               "samples");
    breadth_method_sample v{};
    v.prompt_index = s.prompt_index;
    v.sample_index = s.sample_index;
    v.text = s.text.c_str();
    v.text_len = s.text.size();
    v.tokens = s.tokens.data();
    v.num_tokens = s.tokens.size();
    v.finish = finish_of(s.finish);
    v.source = s.source.c_str();
    write_view(out, v);
  })
}

}  // extern "C"
