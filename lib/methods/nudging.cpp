// NUDGING (Fei et al. 2025) as a BACO rule run by BacoDecoder: BACO's invariants give NUDGING's
// "first word from the aligned model" and "the aligned model writes the whole next word".
#include <fmt/format.h>

#include "core/check.hpp"
#include "methods/internal.hpp"

namespace breadth {
namespace {

void validate_threshold(double t) {
  BREADTH_CHECK_ARG(t >= 0.0 && t <= 1.0,
                    "nudging: options.threshold (the base model's top-1 probability below which the aligned "
                    "model writes the next word) must be in [0, 1], got {}", t);
}

MethodResult to_result(BacoResult&& r, int64_t n) {
  MethodResult out;
  out.method = "nudging";
  out.num_samples = n;
  for (const auto& s : r.samples) {
    MethodSample m;
    m.prompt_index = s.prompt_index;
    m.sample_index = s.sample_index;
    m.text = s.text;
    for (const auto& t : s.tokens) m.tokens.push_back(t.id);
    m.finish = s.finish;
    m.source = "mixed";
    out.generated_tokens += static_cast<int64_t>(s.tokens.size());
    out.samples.push_back(std::move(m));
  }
  out.provenance = std::move(r.samples);
  return out;
}

}  // namespace

RulePtr nudging_rule(double threshold) {
  validate_threshold(threshold);
  return function_rule(
      fmt::format("nudging:{}", threshold),
      [threshold](const StepView& v) {
        return v.p_base_max < threshold ? BacoChoice::kAligned : BacoChoice::kBase;
      },
      kNeedsBase);
}

MethodResult nudging(std::shared_ptr<const CausalLM> base, std::shared_ptr<const CausalLM> aligned,
                     const std::vector<std::string>& prompts, const NudgingOptions& options) {
  methods::validate(options, "nudging");
  validate_threshold(options.threshold);
  BREADTH_CHECK_ARG(base && aligned, "nudging: give both models (base and aligned)");
  BacoDecoder decoder(base, aligned);
  auto bo = methods::baco_options(options);
  bo.on_progress = methods::stage_progress(options.on_progress, "nudging", 0, 1);
  return to_result(decoder.generate(prompts, *nudging_rule(options.threshold), bo), options.num_samples);
}

std::vector<MethodSweepPoint> nudging_sweep(std::shared_ptr<const CausalLM> base,
                                            std::shared_ptr<const CausalLM> aligned,
                                            const std::vector<std::string>& prompts,
                                            const std::vector<double>& thresholds,
                                            const NudgingOptions& options) {
  BREADTH_CHECK_ARG(!thresholds.empty(), "nudging_sweep: give at least one threshold");
  for (double t : thresholds) validate_threshold(t);
  return methods::sweep(thresholds, options.on_progress, "nudging_sweep", [&](double t, ProgressCallback progress) {
    NudgingOptions o = options;
    o.threshold = t;
    o.on_progress = std::move(progress);
    return nudging(base, aligned, prompts, o);
  });
}

}  // namespace breadth
