// Validation of SamplingOptions and the names of finish reasons.
#include <cmath>

#include "breadth/sampler.hpp"
#include "core/check.hpp"

namespace breadth {

void SamplingOptions::validate() const {
  BREADTH_CHECK_ARG(std::isfinite(temperature) && temperature >= 0.0,
                    "SamplingOptions.temperature must be a finite number >= 0 (0 = greedy), got {}",
                    temperature);
  BREADTH_CHECK_ARG(top_k >= 0, "SamplingOptions.top_k must be >= 0 (0 = off), got {}", top_k);
  BREADTH_CHECK_ARG(std::isfinite(top_p) && top_p > 0.0 && top_p <= 1.0,
                    "SamplingOptions.top_p must be in (0, 1] (1 = off), got {}", top_p);
  BREADTH_CHECK_ARG(std::isfinite(min_p) && min_p >= 0.0 && min_p < 1.0,
                    "SamplingOptions.min_p must be in [0, 1) (0 = off), got {}", min_p);
}

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kEos: return "eos";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCallback: return "callback";
  }
  return "unknown";
}

double Sample::sum_logprob() const {
  double s = 0;
  for (float v : logprobs) s += v;
  return s;
}

}  // namespace breadth
