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

/// BACO's word-boundary invariant (SPEC §3, invariant 2): a token begins a new word, so that the other
/// model may take over, when the previous token ended in whitespace or punctuation, or when the token
/// itself begins with whitespace/a space marker or is punctuation/formatting. The first token of a
/// generation has no previous token; pass `prev_token_ends_word = true` for it.
inline bool starts_new_word(bool prev_token_ends_word, bool token_starts_word) {
  return prev_token_ends_word || token_starts_word;
}

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
