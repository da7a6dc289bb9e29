// BACO's word-boundary invariant (SPEC §3, invariant 2), written once for the decoder and its tests.
#pragma once

#include <string_view>

namespace breadth::baco {

/// True when `text` ends inside a multi-byte UTF-8 character (a lead byte whose continuation bytes
/// have not all arrived). Stray continuation bytes with no lead are garbage, not a character in
/// progress: false.
constexpr bool ends_mid_character(std::string_view text) {
  const size_t n = text.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(text[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back;
  }
  return false;
}

/// SPEC §3, invariant 2: switching happens only at word boundaries; while a word is being spelled
/// over several tokens, the model that started it keeps generating it. A token starts a word (so
/// the other model may emit it) when
///   - `token_starts_word`: its own text begins with whitespace or the tokenizer's space marker, or
///     it is punctuation/formatting (special tokens and EOS ids count), or
///   - `prev_ends_word`: the previous token ended in whitespace or punctuation (by the same
///     classes; true before the first generated token),
/// and never while `mid_character`: the text so far ends inside a multi-byte UTF-8 character
/// (ends_mid_character), where a hand-off would split the character between two vocabularies.
///
/// The decoder asks it with the candidate of the word's owner (is this step free for the rule?),
/// with the chosen model's candidate (may it be emitted, or does the owner finish the word?), and
/// with token_starts_word = false (is the step free whatever the candidate?).
constexpr bool starts_new_word(bool prev_ends_word, bool token_starts_word, bool mid_character) {
  return !mid_character && (prev_ends_word || token_starts_word);
}

}  // namespace breadth::baco
