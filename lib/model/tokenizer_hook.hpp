// The model's link to the tokenizer component: a checkpoint's tokenizer is loaded on first use.
#pragma once

#include <memory>
#include <string>

#include "breadth/tokenizer.hpp"

namespace breadth::model {

/// Tokenizer::load(path), or nullptr when this build has no tokenizer component.
std::shared_ptr<const Tokenizer> load_tokenizer(const std::string& path);

}  // namespace breadth::model
