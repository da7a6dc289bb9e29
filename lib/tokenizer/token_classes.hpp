// Per-vocabulary token text classes (SPEC §3): punctuation/formatting, word starts and ends, function
// words. Computed once per tokenizer from each token's decoded bytes; read by BACO's content rules and
// its word-boundary invariant. Definitions in docs/token-classes.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "breadth/tokenizer.hpp"

namespace breadth {

/// The classes of every id of `tokenizer` (vectors of length vocab_size()). Special tokens count as
/// punctuation/formatting, start and end words, and are never function words.
TokenClasses compute_token_classes(const Tokenizer& tokenizer);

namespace tok {

/// The classes of one token's text: its bytes as the tokenizer decodes them mid-sequence (bytes that
/// are not valid UTF-8, such as half of a character, are neither whitespace, punctuation nor letters).
struct TokenTextClass {
  bool starts_word = false;
  bool is_punctuation = false;
  bool ends_word = false;
  bool is_function_word = false;
  std::string word;  ///< the lowercased word the token starts (letters, marks, digits), maybe empty
};
TokenTextClass classify_token_text(std::string_view bytes, bool is_special);

/// The shipped English function-word list (lib/tokenizer/function_words.inc), lowercased.
const std::unordered_set<std::string>& function_words();

}  // namespace tok

}  // namespace breadth
