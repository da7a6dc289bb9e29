// The WordPiece model (BERT family): greedy longest-prefix match with a continuing-subword prefix
// ("##"); a word that cannot be covered, or is longer than max_input_chars_per_word, is [UNK].
#pragma once

#include "tokenizer/pipeline.hpp"
#include "tokenizer/vocab.hpp"

namespace breadth::tok {

class WordPieceModel final : public Model {
 public:
  WordPieceModel(std::vector<std::pair<std::string, int32_t>> vocab, std::string unk_token,
                 std::string continuing_subword_prefix, size_t max_input_chars_per_word, std::string_view where);

  void tokenize(std::string_view word, std::vector<int32_t>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  int32_t size() const override { return vocab_.size(); }

 private:
  int32_t unk_id() const;
  Vocab vocab_;
  std::string unk_, prefix_;
  size_t max_chars_;
};

}  // namespace breadth::tok
