#include "tokenizer/rwkv_tokenizer.hpp"

#include <algorithm>

#include "core/check.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

std::string unescape_rwkv_token(std::string_view escaped, std::string_view where) {
  auto hex = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    fail<FormatError>("{}: RWKV token '{}' has a bad \\x escape", where, escaped);
  };
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    const char c = escaped[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    BREADTH_CHECK_FORMAT(i + 1 < escaped.size(), "{}: RWKV token '{}' ends in a lone backslash", where, escaped);
    const char e = escaped[++i];
    switch (e) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 'x': {
        BREADTH_CHECK_FORMAT(i + 2 < escaped.size(),
                             "{}: RWKV token '{}' has a truncated \\x escape", where, escaped);
        out.push_back(static_cast<char>(hex(escaped[i + 1]) * 16 + hex(escaped[i + 2])));
        i += 2;
        break;
      }
      default: out.push_back(e);  // \\ \' \" and anything else stand for themselves
    }
  }
  return out;
}

RwkvTokenizer::RwkvTokenizer(std::vector<std::string> tokens, const std::vector<bool>& in_trie,
                             std::vector<AddedToken> added, std::optional<int32_t> unk)
    : tokens_(std::move(tokens)), trie_(1), unk_(unk) {
  for (size_t id = 0; id < tokens_.size(); ++id) {
    if (!in_trie[id] || tokens_[id].empty()) continue;
    int32_t n = 0;
    for (unsigned char b : tokens_[id]) {
      if (trie_[n].child[b] < 0) {
        trie_[n].child[b] = static_cast<int32_t>(trie_.size());
        trie_.emplace_back();
      }
      n = trie_[n].child[b];
    }
    trie_[n].token = static_cast<int32_t>(id);  // a later duplicate wins, as in llama.cpp
  }
  added_.assign(std::move(added), nullptr);
}

void RwkvTokenizer::greedy(std::string_view text, std::vector<int32_t>& out) const {
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t best = -1;
    size_t best_end = pos;
    int32_t n = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      n = trie_[n].child[static_cast<unsigned char>(text[i])];
      if (n < 0) break;
      if (trie_[n].token >= 0) {
        best = trie_[n].token;
        best_end = i + 1;
      }
    }
    if (best < 0) {
      // No token starts with this byte (the world vocabulary has all 256): the unknown token when
      // the file names one, else the byte is dropped.
      if (unk_) out.push_back(*unk_);
      ++pos;
      continue;
    }
    out.push_back(best);
    pos = best_end;
  }
}

std::vector<int32_t> RwkvTokenizer::encode(std::string_view text, bool /*add_special*/) const {
  // llama.cpp adds neither BOS nor EOS to an RWKV vocabulary.
  std::vector<Piece> pieces(1);
  pieces[0].text = is_valid_utf8(text) ? std::string(text) : sanitize_utf8(text);
  pieces[0].at_start = true;
  added_.split(pieces, false);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  for (const auto& p : pieces) {
    if (p.id >= 0) ids.push_back(p.id);
    else greedy(p.text, ids);
  }
  return ids;
}

std::string RwkvTokenizer::decode_raw(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) continue;
    if (skip_special && is_special(id)) continue;
    out += tokens_[id];
  }
  return out;
}

std::string RwkvTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  return sanitize_utf8(decode_raw(ids, skip_special));
}

std::string RwkvTokenizer::token_bytes(int32_t id) const {
  BREADTH_CHECK_ARG(id >= 0 && static_cast<size_t>(id) < tokens_.size(), "token id {} is not in the vocabulary (size {})",
                    id, tokens_.size());
  return tokens_[id];
}

std::optional<int32_t> RwkvTokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.find(token)) return id;
  int32_t n = 0;
  for (unsigned char b : token) {
    n = trie_[n].child[b];
    if (n < 0) return std::nullopt;
  }
  if (token.empty() || trie_[n].token < 0) return std::nullopt;
  return trie_[n].token;
}

bool RwkvTokenizer::is_special(int32_t id) const {
  const AddedToken* a = added_.by_id(id);
  return a && a->special;
}

}  // namespace breadth::tok
