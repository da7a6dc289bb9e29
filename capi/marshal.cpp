// Option structs and callbacks of the C API as their C++ counterparts.
#include "marshal.hpp"

namespace breadth::capi {

std::vector<std::string> strings_of(const char* const* items, size_t count, const char* what) {
  BREADTH_C_REQUIRE(items || count == 0, std::string(what) + " is NULL but its count is " + std::to_string(count));
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    BREADTH_C_REQUIRE(items[i], std::string(what) + "[" + std::to_string(i) + "] is NULL");
    out.emplace_back(items[i]);
  }
  return out;
}

SamplingOptions sampling_of(const breadth_sampling_options& o, const char* what) {
  BREADTH_C_REQUIRE(o.version >= 1 && o.version <= BREADTH_SAMPLING_OPTIONS_VERSION,
                    std::string(what) + ".version is unknown; initialise it with BREADTH_SAMPLING_OPTIONS_INIT");
  SamplingOptions s;
  s.temperature = o.temperature;
  s.top_k = o.top_k;
  s.top_p = o.top_p;
  s.min_p = o.min_p;
  return s;
}

ProgressCallback progress_of(breadth_progress_callback fn, void* user_data) {
  if (!fn) return {};
  return [fn, user_data](int64_t done, int64_t total, const std::string& label) {
    return fn(done, total, label.c_str(), user_data) != 0;
  };
}

GenerateOptions generate_options_of(const breadth_generate_options* options, const char* what) {
  breadth_generate_options defaults = BREADTH_GENERATE_OPTIONS_INIT;
  const breadth_generate_options& o = options ? *options : defaults;
  BREADTH_C_REQUIRE(o.version >= 1 && o.version <= BREADTH_GENERATE_OPTIONS_VERSION,
                    std::string(what) + "->version is unknown; initialise it with BREADTH_GENERATE_OPTIONS_INIT");
  GenerateOptions g;
  g.sampling = sampling_of(o.sampling, (std::string(what) + "->sampling").c_str());
  g.num_samples = o.num_samples;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.first_sample_index = o.first_sample_index;
  g.stop_strings = strings_of(o.stop_strings, o.num_stop_strings, "stop_strings");
  g.stop_at_eos = o.stop_at_eos != 0;
  g.apply_chat_template = o.apply_chat_template != 0;
  if (o.on_token) {
    auto fn = o.on_token;
    void* ud = o.user_data;
    g.on_token = [fn, ud](int64_t row, int32_t token, const std::string& piece) {
      breadth_token_event e{row, token, piece.c_str(), piece.size(), BREADTH_SOURCE_MODEL};
      return fn(&e, ud) != 0;
    };
  }
  g.on_progress = progress_of(o.on_progress, o.user_data);
  return g;
}

BacoOptions baco_options_of(const breadth_baco_options* options) {
  breadth_baco_options defaults = BREADTH_BACO_OPTIONS_INIT;
  const breadth_baco_options& o = options ? *options : defaults;
  BREADTH_C_REQUIRE(o.version >= 1 && o.version <= BREADTH_BACO_OPTIONS_VERSION,
                    "options->version is unknown; initialise it with BREADTH_BACO_OPTIONS_INIT");
  BacoOptions b;
  b.base_sampling = sampling_of(o.base_sampling, "options->base_sampling");
  b.aligned_sampling = sampling_of(o.aligned_sampling, "options->aligned_sampling");
  b.num_samples = o.num_samples;
  b.max_new_tokens = o.max_new_tokens;
  b.seed = o.seed;
  if (o.has_base_seed) b.base_seed = o.base_seed;
  b.first_sample_index = o.first_sample_index;
  b.min_new_tokens = o.min_new_tokens;
  b.max_retries = o.max_retries;
  b.lazy = o.lazy != 0;
  if (o.on_token) {
    auto fn = o.on_token;
    void* ud = o.user_data;
    b.on_token = [fn, ud](int64_t row, const TokenRecord& t) {
      breadth_token_event e{row, t.id, t.text.c_str(), t.text.size(),
                            t.source == TokenSource::kBase ? BREADTH_SOURCE_BASE : BREADTH_SOURCE_ALIGNED};
      return fn(&e, ud) != 0;
    };
  }
  b.on_progress = progress_of(o.on_progress, o.user_data);
  return b;
}

breadth_finish finish_of(FinishReason r) {
  switch (r) {
    case FinishReason::kEos: return BREADTH_FINISH_EOS;
    case FinishReason::kStop: return BREADTH_FINISH_STOP;
    case FinishReason::kLength: return BREADTH_FINISH_LENGTH;
    case FinishReason::kCallback: return BREADTH_FINISH_CALLBACK;
  }
  return BREADTH_FINISH_LENGTH;
}

}  // namespace breadth::capi
