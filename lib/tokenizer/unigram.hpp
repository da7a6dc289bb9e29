// The Unigram model of `tokenizers` (T5, ALBERT, XLM-R and other converted SentencePiece unigram
// vocabularies): the best segmentation by summed piece log-probabilities (Viterbi), unknown runs
// fused into one piece, and optional byte fallback (<0xXX> pieces).
#pragma once

#include <optional>

#include "tokenizer/pipeline.hpp"
#include "tokenizer/vocab.hpp"

namespace breadth::tok {

class UnigramModel final : public Model {
 public:
  /// `pieces` are (token, score) with the token's id its position. Throws FormatError (naming
  /// `where`) when `unk_id` is outside the vocabulary or the vocabulary is empty while unk_id is set.
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id, bool byte_fallback,
               std::string_view where);

  /// tokenizers' Unigram::encode_optimized + tokenize. A character no piece starts with scores the
  /// lowest piece score minus 10 and becomes unk; consecutive unk characters form one piece, which
  /// becomes byte tokens when byte fallback has them all, else unk_id. Throws FormatError when the
  /// text needs unk and the model has no unk_id (the reference fails the same way).
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  /// Every id names its own piece, also a repeated one (the reference's vocabulary is a list; only
  /// token_to_id goes through its map, where the last of the repeats wins).
  const std::string* id_to_token(int32_t id) const override {
    return id >= 0 && static_cast<size_t>(id) < token_store_.size() ? &token_store_[id] : nullptr;
  }
  int32_t size() const override { return vocab_.size(); }

  /// The pieces of the best segmentation (before ids and byte fallback), for tests.
  std::vector<std::string_view> segment(std::string_view text) const;

 private:
  Vocab vocab_;
  std::vector<double> scores_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0;
  std::string where_;
  // Prefix search: the distinct tokens sorted bytewise, with the id each maps to (the last id of a
  // repeated token, as the reference's hash map keeps).
  std::vector<std::pair<std::string_view, int32_t>> sorted_;
  std::vector<std::string> token_store_;
};

/// The f64 the reference `tokenizers` holds for a score its JSON parser (serde_json, without
/// float_roundtrip) read from the text that serialized `exact`: serde_json multiplies or divides
/// the decimal significand by a power of ten, which can miss the correctly rounded value by an ulp,
/// and Unigram ties are decided by those last bits. The text is taken to be the shortest
/// round-trip form (what tokenizers' ryu and Python's repr write).
double serde_json_f64(double exact);

}  // namespace breadth::tok
