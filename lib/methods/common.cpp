// What the methods share: validation, rendering, result conversion, the plain sampling baseline and
// the temperature sweep.
#include <fmt/format.h>

#include "breadth/model.hpp"
#include "breadth/tokenizer.hpp"
#include "core/check.hpp"
#include "methods/internal.hpp"

namespace breadth {
namespace methods {

void validate(const MethodOptions& o, const std::string& method) {
  o.sampling.validate();
  BREADTH_CHECK_ARG(o.num_samples >= 1, "{}: options.num_samples must be >= 1, got {}", method, o.num_samples);
  BREADTH_CHECK_ARG(o.max_new_tokens >= 1, "{}: options.max_new_tokens must be >= 1, got {}", method,
                    o.max_new_tokens);
}

GenerateOptions generate_options(const MethodOptions& o) {
  GenerateOptions g;
  g.sampling = o.sampling;
  g.num_samples = o.num_samples;
  g.max_new_tokens = o.max_new_tokens;
  g.seed = o.seed;
  g.on_progress = o.on_progress;
  return g;
}

std::vector<int32_t> encode_messages(const CausalLM& model, const std::vector<ChatMessage>& messages,
                                     const std::shared_ptr<const ChatTemplate>& tmpl,
                                     const std::string& method) {
  auto tok = model.tokenizer();
  BREADTH_CHECK_ARG(tok != nullptr, "{}: the checkpoint has no tokenizer; load one with its tokenizer", method);
  const ChatTemplate* t = tmpl ? tmpl.get() : tok->chat_template();
  BREADTH_CHECK_ARG(t != nullptr,
                    "{}: the model has no chat template; pass options.chat_template (e.g. "
                    "ChatTemplate::builtin or from_jinja)", method);
  return tok->encode(t->render(messages, /*add_generation_prompt=*/true), /*add_special=*/false);
}

ProgressCallback stage_progress(const ProgressCallback& cb, std::string label, int64_t stage,
                                int64_t stages) {
  if (!cb) return {};
  return [cb, label = std::move(label), stage, stages](int64_t done, int64_t total, const std::string&) {
    return cb(stage * total + done, stages * total, label);
  };
}

BacoOptions baco_options(const TwoModelOptions& o) {
  BacoOptions b;
  b.base_sampling = b.aligned_sampling = o.sampling;
  b.num_samples = o.num_samples;
  b.max_new_tokens = o.max_new_tokens;
  b.seed = o.seed;
  b.aligned_template = o.aligned_template;
  b.base_template = o.base_template;
  b.on_progress = o.on_progress;
  return b;
}

}  // namespace methods

MethodResult to_method_result(std::string method, const GenerateResult& r, int64_t num_samples,
                              const std::string& source) {
  MethodResult out;
  out.method = std::move(method);
  out.num_samples = num_samples;
  out.generated_tokens = r.generated_tokens;
  out.samples.reserve(r.samples.size());
  for (const auto& s : r.samples) {
    MethodSample m;
    m.prompt_index = s.prompt_index;
    m.sample_index = s.sample_index;
    m.text = s.text;
    m.tokens = s.tokens;
    m.finish = s.finish;
    m.source = source;
    out.samples.push_back(std::move(m));
  }
  return out;
}

MethodResult sample(const CausalLM& model, const std::vector<std::string>& prompts,
                    const MethodOptions& options) {
  methods::validate(options, "sample");
  auto g = methods::generate_options(options);
  g.on_progress = methods::stage_progress(options.on_progress, "sample", 0, 1);
  return to_method_result("sample", generate(model, prompts, g), options.num_samples, "model");
}

std::vector<MethodSweepPoint> temperature_sweep(const CausalLM& model,
                                                const std::vector<std::string>& prompts,
                                                const std::vector<double>& temperatures,
                                                const MethodOptions& options) {
  methods::validate(options, "temperature_sweep");
  BREADTH_CHECK_ARG(!temperatures.empty(), "temperature_sweep: give at least one temperature");
  for (double t : temperatures) {
    SamplingOptions s = options.sampling;
    s.temperature = t;
    s.validate();  // names the field and the value
  }
  return methods::sweep(temperatures, options.on_progress, "temperature_sweep",
                        [&](double t, ProgressCallback progress) {
                          auto g = methods::generate_options(options);
                          g.sampling.temperature = t;
                          g.on_progress = std::move(progress);
                          return to_method_result("sample", generate(model, prompts, g), options.num_samples,
                                                  "model");
                        });
}

}  // namespace breadth
