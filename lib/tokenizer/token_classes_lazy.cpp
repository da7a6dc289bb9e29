// Tokenizer::token_classes(): computed on first use by compute_token_classes (token_classes.cpp),
// kept in its own file so that programs which never ask for classes do not link that code.
#include <mutex>

#include "breadth/tokenizer.hpp"

namespace breadth {

TokenClasses compute_token_classes(const Tokenizer& tokenizer);

const TokenClasses& Tokenizer::token_classes() const {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  if (!classes_) classes_ = std::make_shared<TokenClasses>(compute_token_classes(*this));
  return *classes_;
}

}  // namespace breadth
