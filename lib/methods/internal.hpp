// Pieces the method implementations share (not public).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "breadth/chat_template.hpp"
#include "breadth/methods.hpp"
#include "breadth/sampler.hpp"

namespace breadth::methods {

/// Throws InvalidArgument naming `method` and the field when MethodOptions are out of range.
void validate(const MethodOptions& o, const std::string& method);
/// generate()'s options for a method's answers: sampling, n, max_new_tokens, seed, progress.
GenerateOptions generate_options(const MethodOptions& o);
/// A conversation rendered by `tmpl` (nullptr: the model's chat template) with the generation prompt
/// and encoded as encode_chat does (no post-processor specials: the template spells them).
std::vector<int32_t> encode_messages(const CausalLM& model, const std::vector<ChatMessage>& messages,
                                     const std::shared_ptr<const ChatTemplate>& tmpl,
                                     const std::string& method);
/// Stage `stage` of `stages` equal stages of a method's work, reported as one progress bar labelled
/// `label`; empty when `cb` is.
ProgressCallback stage_progress(const ProgressCallback& cb, std::string label, int64_t stage,
                                int64_t stages);
/// A sweep: `run(value, progress)` for each value in order, each run one stage of a progress bar
/// labelled `label`. The caller has checked the values.
template <typename Run>
std::vector<MethodSweepPoint> sweep(const std::vector<double>& values, const ProgressCallback& cb,
                                    const std::string& label, Run run) {
  std::vector<MethodSweepPoint> out;
  const auto stages = static_cast<int64_t>(values.size());
  for (int64_t k = 0; k < stages; ++k) {
    const double value = values[static_cast<size_t>(k)];
    out.push_back({value, run(value, stage_progress(cb, label, k, stages))});
  }
  return out;
}
/// The BacoOptions a two-model method runs BacoDecoder with.
BacoOptions baco_options(const TwoModelOptions& o);

}  // namespace breadth::methods
