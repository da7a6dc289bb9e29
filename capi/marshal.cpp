// Option structs, callbacks and enums of the C API as their C++ counterparts.
#include "marshal.hpp"

#include "versioned.hpp"
#include "breadth/chat_template.hpp"

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

SamplingOptions sampling_of(const breadth_sampling_options& o, const std::string& what) {
  check_version<breadth_sampling_options>(o.version, what);
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

GenerateOptions generate_options_of(const breadth_generate_options* options, const std::string& what) {
  if (!options) return GenerateOptions{};
  const breadth_generate_options o = read_options(options, what);
  GenerateOptions g;
  g.sampling = sampling_of(o.sampling, what + "->sampling");
  g.num_samples = o.num_samples;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.first_sample_index = o.first_sample_index;
  g.stop_strings = strings_of(o.stop_strings, o.num_stop_strings, "stop_strings");
  g.stop_at_eos = o.stop_at_eos != 0;
  g.apply_chat_template = o.apply_chat_template != 0;
  g.cuda_graph = o.cuda_graph != 0;
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
  if (!options) return BacoOptions{};
  const breadth_baco_options o = read_options(options, "options");
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
  b.ignore_eos = o.ignore_eos != 0;
  const int step = c_enum(o.step);
  BREADTH_C_REQUIRE(step == BREADTH_BACO_STEP_AUTO || step == BREADTH_BACO_STEP_HOST_DRIVEN ||
                        step == BREADTH_BACO_STEP_RESIDENT,
                    "options->step must be BREADTH_BACO_STEP_AUTO, _HOST_DRIVEN or _RESIDENT");
  b.step = step == BREADTH_BACO_STEP_RESIDENT      ? BacoStep::kResident
           : step == BREADTH_BACO_STEP_HOST_DRIVEN ? BacoStep::kHostDriven
                                                   : BacoStep::kAuto;
  if (o.base_template) b.base_template = ChatTemplate::from_format(o.base_template);
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

torch::ScalarType scalar_type_of(int d) {
  switch (d) {
    case BREADTH_DTYPE_FLOAT32: return torch::kFloat32;
    case BREADTH_DTYPE_BFLOAT16: return torch::kBFloat16;
    case BREADTH_DTYPE_FLOAT16: return torch::kFloat16;
  }
  throw InvalidArgument("options->dtype is not a breadth_dtype value");
}

breadth_dtype dtype_of(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return BREADTH_DTYPE_FLOAT32;
    case torch::kBFloat16: return BREADTH_DTYPE_BFLOAT16;
    case torch::kFloat16: return BREADTH_DTYPE_FLOAT16;
    default: break;
  }
  throw Error(std::string("dtype ") + c10::toString(t) + " has no breadth_dtype value");
}

QuestionKind question_kind_of(int k) {
  switch (k) {
    case BREADTH_QUESTION_OPEN: return QuestionKind::kOpen;
    case BREADTH_QUESTION_FIXED: return QuestionKind::kFixed;
  }
  throw InvalidArgument("question->kind must be BREADTH_QUESTION_OPEN or BREADTH_QUESTION_FIXED");
}

breadth_question_kind question_kind_of(QuestionKind k) {
  return k == QuestionKind::kFixed ? BREADTH_QUESTION_FIXED : BREADTH_QUESTION_OPEN;
}

AnswerStrategy strategy_of(int s) {
  switch (s) {
    case BREADTH_STRATEGY_ONE: return AnswerStrategy::kOne;
    case BREADTH_STRATEGY_TWO: return AnswerStrategy::kTwo;
    case BREADTH_STRATEGY_ALL: return AnswerStrategy::kAll;
  }
  throw InvalidArgument("options->strategy must be a breadth_answer_strategy value");
}

breadth_answer_strategy strategy_of(AnswerStrategy s) {
  switch (s) {
    case AnswerStrategy::kOne: return BREADTH_STRATEGY_ONE;
    case AnswerStrategy::kTwo: return BREADTH_STRATEGY_TWO;
    case AnswerStrategy::kAll: return BREADTH_STRATEGY_ALL;
  }
  throw Error("unknown AnswerStrategy");
}

}  // namespace breadth::capi
