// Added tokens (special and user tokens) recognized in the text before the model runs, as
// `tokenizers`' AddedVocabulary does: leftmost-longest matching, first of the tokens marked
// `normalized: false` on the raw text, then of the `normalized: true` ones on each normalized piece;
// with the single_word / lstrip / rstrip rules.
#pragma once

#include <unordered_map>

#include "tokenizer/pipeline.hpp"

namespace breadth::tok {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

class AddedVocabulary {
 public:
  /// `normalizer` (may be null) gives the matching form of `normalized` tokens.
  void assign(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  bool empty() const { return tokens_.empty(); }
  bool has_normalized() const { return normalized_.root_used; }
  /// Cuts the pieces that are not yet tokens at the matches of the raw (`normalized = false`) or
  /// the normalized token set.
  void split(std::vector<Piece>& pieces, bool normalized_set) const;

  /// The added token with this id, or nullptr.
  const AddedToken* by_id(int32_t id) const {
    auto it = by_id_.find(id);
    return it == by_id_.end() ? nullptr : &tokens_[it->second];
  }
  /// The text an added token decodes from (the normalized content for normalized tokens).
  const std::string& decode_form(const AddedToken& t) const { return decode_forms_[&t - tokens_.data()]; }
  std::optional<int32_t> find(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  int32_t max_id() const;

 private:
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;
      int32_t token = -1;  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    bool first_byte[256] = {};
    bool root_used = false;
    void insert(std::string_view s, int32_t token);
    /// Longest token starting at `pos`: (index, end) or index -1.
    std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const;
  };
  void split_one(const Piece& piece, const Trie& trie, std::vector<Piece>& out) const;

  std::vector<AddedToken> tokens_;
  std::vector<std::string> decode_forms_;
  std::unordered_map<int32_t, size_t> by_id_;
  Trie raw_, normalized_;
};

}  // namespace breadth::tok
