#include "baco/handoff.hpp"

#include <algorithm>

namespace breadth::baco {

std::string token_text(const Tokenizer& tok, int64_t id) {
  if (id < 0 || id >= tok.vocab_size() || tok.is_special(static_cast<int32_t>(id))) return {};
  return tok.token_bytes(static_cast<int32_t>(id));
}

bool same_vocabulary(const Tokenizer& a, const Tokenizer& b) {
  if (a.vocab_size() != b.vocab_size()) return false;
  for (int32_t i = 0; i < a.vocab_size(); ++i)
    if (a.is_special(i) != b.is_special(i) || a.token_bytes(i) != b.token_bytes(i)) return false;
  return true;
}

std::string FragmentEncoder::bytes_of(const std::vector<int32_t>& ids) const {
  std::string s;
  for (auto id : ids) s += token_text(*tok_, id);
  return s;
}

std::vector<int32_t> FragmentEncoder::encode(std::string_view text) const {
  if (text.empty()) return {};
  auto ids = tok_->encode(text, false);
  if (bytes_of(ids) == text) return ids;
  if (text.front() == ' ') {
    auto stripped = tok_->encode(text.substr(1), false);
    if (bytes_of(stripped) == text) return stripped;
  }
  std::call_once(once_, [this] {
    for (int32_t i = 0; i < tok_->vocab_size(); ++i) {
      if (tok_->is_special(i)) continue;
      auto b = tok_->token_bytes(i);
      if (b.empty()) continue;
      longest_ = std::max(longest_, b.size());
      by_bytes_.emplace(std::move(b), i);  // the first (lowest) id wins for duplicate spellings
    }
  });
  std::vector<int32_t> greedy;
  for (size_t i = 0; i < text.size();) {
    size_t len = std::min(longest_, text.size() - i);
    for (; len > 0; --len) {
      auto it = by_bytes_.find(std::string(text.substr(i, len)));
      if (it != by_bytes_.end()) {
        greedy.push_back(it->second);
        break;
      }
    }
    if (len == 0) return ids;  // a byte the vocabulary cannot spell: the canonical encoding it is
    i += len;
  }
  return greedy;
}

}  // namespace breadth::baco
