// Decoders from GGUF files (llama.cpp's format): hyper-parameters from the metadata, tensors
// dequantized to the model dtype and renamed to Hugging Face names.
#pragma once

#include <memory>
#include <string>

#include "breadth/model.hpp"

namespace breadth::model {

std::shared_ptr<CausalLM> load_gguf_model(const std::string& path, const ModelOptions& options);

}  // namespace breadth::model
