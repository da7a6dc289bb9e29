// Token classes with bounds checks, and the text hand-off between two vocabularies.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "breadth/tokenizer.hpp"

namespace breadth::baco {

/// TokenClasses lookups that treat an id outside the tokenizer's vocabulary (a model's padded
/// embedding rows) as a special token: its own word, punctuation, empty text.
class Classes {
 public:
  explicit Classes(const Tokenizer& tok) : c_(&tok.token_classes()) {}
  bool starts_word(int64_t id) const { return get(c_->starts_word, id); }
  bool ends_word(int64_t id) const { return get(c_->ends_word, id); }
  bool punct(int64_t id) const { return get(c_->is_punctuation, id); }
  bool function(int64_t id) const { return id >= 0 && get(c_->is_function_word, id, false); }

 private:
  static bool get(const std::vector<uint8_t>& v, int64_t id, bool outside = true) {
    return id >= 0 && static_cast<size_t>(id) < v.size() ? v[static_cast<size_t>(id)] != 0 : outside;
  }
  const TokenClasses* c_;
};

/// The bytes `id` adds to a text: empty for special tokens and ids outside the vocabulary.
std::string token_text(const Tokenizer& tok, int64_t id);

/// True when both tokenizers map every id to the same bytes (then ids can pass directly).
bool same_vocabulary(const Tokenizer& a, const Tokenizer& b);

/// Re-tokenizes a piece of generated text for the model that did not write it. The result's bytes
/// are exactly `text` whenever the vocabulary can spell it: the canonical encoding when it
/// round-trips, else the encoding of the text without its leading space (tokenizers that prepend a
/// space marker), else a greedy longest match over the vocabulary's token bytes.
class FragmentEncoder {
 public:
  explicit FragmentEncoder(std::shared_ptr<const Tokenizer> tok) : tok_(std::move(tok)) {}
  std::vector<int32_t> encode(std::string_view text) const;

 private:
  std::string bytes_of(const std::vector<int32_t>& ids) const;
  std::shared_ptr<const Tokenizer> tok_;
  mutable std::once_flag once_;
  mutable std::unordered_map<std::string, int32_t> by_bytes_;
  mutable size_t longest_ = 0;
};

}  // namespace breadth::baco
