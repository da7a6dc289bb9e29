// The `Precompiled` normalizer of tokenizer.json: SentencePiece's precompiled_charsmap (a darts-clone
// double-array trie over UTF-8 bytes whose values index a pool of NUL-terminated replacement
// strings), applied the way `tokenizers` applies it (which is not how sentencepiece does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace breadth::tok {

class PrecompiledCharsmap {
 public:
  /// Parses the blob: little-endian u32 trie size in bytes, that many bytes of u32 units, then the
  /// replacement pool (valid UTF-8). Throws FormatError naming `where` when it is malformed.
  PrecompiledCharsmap(std::string_view blob, std::string_view where);

  /// The replacement of the shortest prefix of `chunk` the trie holds (so a rule for "a" also
  /// rewrites a chunk "ab" entirely, as tokenizers does), or nullopt when none matches. Throws
  /// FormatError when the trie points outside itself or the pool, or into the middle of a character.
  std::optional<std::string_view> transform(std::string_view chunk) const;

  /// tokenizers' Precompiled::normalize: each extended grapheme cluster shorter than 6 bytes that
  /// has a rule is replaced whole; otherwise each of its characters is replaced by its rule or kept.
  std::string normalize(std::string_view s) const;

 private:
  uint32_t unit(size_t pos) const;

  std::vector<uint32_t> units_;
  std::string pool_;
  std::string where_;
};

/// Byte offsets of the extended grapheme cluster boundaries of `s` (valid UTF-8), from 0 to
/// s.size(), computed with ICU (UAX #29).
std::vector<size_t> grapheme_boundaries(std::string_view s);

}  // namespace breadth::tok
