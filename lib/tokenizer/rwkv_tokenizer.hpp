// The RWKV "world" tokenizer (GGUF tokenizer.ggml.model = "rwkv"): greedy longest match over the
// bytes of the text against a trie of the vocabulary's byte strings. The GGUF stores each token as
// the text between the quotes of Python's repr() of its bytes (\\, \', \t, \n, \r, \xNN escapes).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/config_specials.hpp"

namespace breadth::tok {

/// The bytes of a token as the GGUF stores it escaped (llama.cpp's reading of the converter's
/// repr(bytes)[2:-1]): `\t`, `\n`, `\r`, `\xNN` and `\<c>` for any other c. Throws FormatError
/// naming `where` for a truncated escape or a bad hex digit.
std::string unescape_rwkv_token(std::string_view escaped, std::string_view where);

class RwkvTokenizer final : public ConfigurableTokenizer {
 public:
  /// `tokens` are the byte strings (already unescaped); `in_trie[i]` says whether token i is
  /// matched in text by the trie (normal tokens); `added` are the control / user-defined tokens,
  /// recognised in the text first as added tokens are.
  RwkvTokenizer(std::vector<std::string> tokens, const std::vector<bool>& in_trie, std::vector<AddedToken> added,
                std::optional<int32_t> unk);

  std::vector<int32_t> encode(std::string_view text, bool add_special = false) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string decode_raw(const std::vector<int32_t>& ids, bool skip_special = false) const override;
  std::string token_bytes(int32_t id) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  bool is_special(int32_t id) const override;

 private:
  struct Node {
    int32_t child[256];
    int32_t token = -1;
    Node() { std::fill(std::begin(child), std::end(child), -1); }
  };
  void greedy(std::string_view text, std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::vector<Node> trie_;
  AddedVocabulary added_;
  std::optional<int32_t> unk_;
};

}  // namespace breadth::tok
