// Pieces the method implementations share (not public).
#pragma once

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
/// The BacoOptions a two-model method runs BacoDecoder with.
BacoOptions baco_options(const TwoModelOptions& o);

}  // namespace breadth::methods
