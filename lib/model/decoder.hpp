// The one decoder implementation behind every supported family: an embedding, N identical blocks
// (attention + gated MLP, with the norms, biases and q/k norms the ArchConfig switches on), a final
// norm, and an LM head (or a classifier's score head).
#pragma once

#include <memory>
#include <string>

#include "breadth/model.hpp"
#include "model/arch.hpp"
#include "model/weights.hpp"

namespace breadth::model {

/// Builds the decoder from `weights` (HF tensor names), converting to options.dtype on
/// options.device. `tokenizer_path` is what Tokenizer::load gets on first use ("" = none).
std::shared_ptr<CausalLM> make_decoder(ArchConfig arch, const WeightSource& weights,
                                       const ModelOptions& options, std::string tokenizer_path);

/// Checks that `options` can be honoured here (dtype, device). Throws InvalidArgument.
void validate_options(const ModelOptions& options);

}  // namespace breadth::model
