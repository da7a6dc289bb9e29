// What the C handles hold. Each is a thin owner of the C++ object it names.
#pragma once

#include <memory>

#include "breadth/model.hpp"

struct breadth_model {
  std::shared_ptr<breadth::CausalLM> model;
};

namespace breadth::capi {
/// The model's tokenizer, or InvalidArgument naming the model when it has none.
const Tokenizer& tokenizer_of(const breadth_model* model);
/// Copies `s` into a malloc'd C string owned by the caller (released by breadth_string_free).
char* to_c_string(const std::string& s);
}  // namespace breadth::capi
