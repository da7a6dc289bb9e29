// The stages of a Hugging Face `tokenizers` pipeline: normalizer -> pre-tokenizer -> model ->
// post-processor, and the decoder chain back to text. Each stage is a small interface with one
// implementation per `type` of tokenizer.json; the builders live in tokenizer_json.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace breadth::tok {

/// A piece of the input on its way to the model. `id >= 0` marks a piece already recognized as an
/// added token (left alone by later stages). `at_start` tells whether the piece begins at offset 0
/// of the original text (Metaspace's prepend_scheme "first" depends on it).
struct Piece {
  std::string text;
  bool at_start = false;
  int32_t id = -1;
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  /// Rewrites one piece of text (valid UTF-8 in, valid UTF-8 out).
  virtual void normalize(std::string& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Splits the pieces that are not added tokens further; empty pieces are dropped.
  virtual void pre_tokenize(std::vector<Piece>& pieces) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  /// Appends the ids of one pre-tokenized word.
  virtual void tokenize(std::string_view word, std::vector<int32_t>& out) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  /// The token string of `id`, or nullptr when the model has no such id.
  virtual const std::string* id_to_token(int32_t id) const = 0;
  /// One past the largest id.
  virtual int32_t size() const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  /// Adds the special tokens of a single sequence when `add_special` is true.
  virtual void process(std::vector<int32_t>& ids, bool add_special) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  /// `tokenizers`' decode_chain: token strings in, transformed strings out (joined by the caller).
  /// With `raw`, bytes are not validated as UTF-8 (streaming decodes assemble them later).
  virtual void decode_chain(std::vector<std::string>& tokens, bool raw) const = 0;
  /// The bytes one token contributes in the middle of a sequence (no start-of-text effects).
  virtual void mid_token(std::string& token) const = 0;
};

/// Splitting shared by pre-tokenizers and the Split/Replace stages: `tokenizers`'
/// SplitDelimiterBehavior.
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

/// A span of a string and whether it is a match of the splitting pattern.
struct Span {
  size_t start, end;
  bool is_match;
};

/// Cuts `piece` at `spans` (which cover it entirely, in order) with `behavior`, appending the
/// non-empty results to `out`.
void split_piece(const Piece& piece, const std::vector<Span>& spans, SplitBehavior behavior,
                 std::vector<Piece>& out);

/// Spans from a list of match ranges over a string of length `n` (tokenizers' Pattern::find_matches).
std::vector<Span> spans_from_matches(const std::vector<std::pair<size_t, size_t>>& matches, size_t n,
                                     bool invert);

/// Spans where each character satisfying `pred` is a match of its own.
template <typename Pred>
std::vector<Span> spans_from_chars(std::string_view s, Pred pred, bool invert = false);

/// Non-overlapping occurrences of a literal, left to right.
std::vector<std::pair<size_t, size_t>> find_literal(std::string_view text, std::string_view lit);

/// Builds the 256-entry GPT-2 byte <-> printable character mapping.
const std::vector<std::string>& byte_to_unicode();
/// Inverse of byte_to_unicode, indexed by code point (-1 when not a mapped character).
int byte_of_unicode(char32_t c);

}  // namespace breadth::tok

#include "core/utf8.hpp"

template <typename Pred>
std::vector<breadth::tok::Span> breadth::tok::spans_from_chars(std::string_view s, Pred pred, bool invert) {
  std::vector<Span> spans;
  if (s.empty()) {
    spans.push_back({0, 0, false});
    return spans;
  }
  size_t last = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t b = i;
    const char32_t c = next_cp(s, i);
    if (pred(c)) {
      if (last < b) spans.push_back({last, b, invert});
      spans.push_back({b, i, !invert});
      last = i;
    }
  }
  if (last < s.size()) spans.push_back({last, s.size(), invert});
  return spans;
}
