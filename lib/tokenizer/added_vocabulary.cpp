#include "tokenizer/added_vocabulary.hpp"

#include <unicode/uchar.h>

#include "tokenizer/unicode.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {
// The `regex` crate's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation, joiners.
bool is_word_char(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  if (u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_ALPHABETIC)) return true;
  const int8_t t = u_charType(static_cast<UChar32>(c));
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK ||
         t == U_DECIMAL_DIGIT_NUMBER || t == U_CONNECTOR_PUNCTUATION;
}

char32_t last_cp(std::string_view s) {
  size_t k = s.size() - 1;
  while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
  return next_cp(s, k);
}
}  // namespace

void AddedVocabulary::Trie::insert(std::string_view s, int32_t token) {
  if (s.empty()) return;
  int32_t n = 0;
  for (unsigned char b : s) {
    int32_t next = -1;
    for (const auto& [c, child] : nodes[n].children)
      if (c == b) next = child;
    if (next < 0) {
      next = static_cast<int32_t>(nodes.size());
      nodes[n].children.emplace_back(b, next);
      nodes.emplace_back();
    }
    n = next;
  }
  // The first token given a content keeps it.
  if (nodes[n].token < 0) nodes[n].token = token;
  first_byte[static_cast<unsigned char>(s[0])] = true;
  root_used = true;
}

std::pair<int32_t, size_t> AddedVocabulary::Trie::longest_at(std::string_view text, size_t pos) const {
  int32_t best = -1;
  size_t best_end = pos;
  int32_t n = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    int32_t next = -1;
    for (const auto& [c, child] : nodes[n].children)
      if (c == b) {
        next = child;
        break;
      }
    if (next < 0) break;
    n = next;
    if (nodes[n].token >= 0) {
      best = nodes[n].token;
      best_end = i + 1;
    }
  }
  return {best, best_end};
}

void AddedVocabulary::assign(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  decode_forms_.clear();
  by_id_.clear();
  raw_ = Trie{};
  normalized_ = Trie{};
  for (size_t k = 0; k < tokens_.size(); ++k) {
    const auto& t = tokens_[k];
    by_id_[t.id] = k;
    std::string form = t.content;
    if (t.normalized && normalizer) normalizer->normalize(form);
    decode_forms_.push_back(form);
    if (t.normalized) normalized_.insert(form, static_cast<int32_t>(k));
    else raw_.insert(t.content, static_cast<int32_t>(k));
  }
}

std::optional<int32_t> AddedVocabulary::find(std::string_view content) const {
  for (const auto& t : tokens_)
    if (t.content == content) return t.id;
  return std::nullopt;
}

int32_t AddedVocabulary::max_id() const {
  int32_t m = -1;
  for (const auto& t : tokens_) m = std::max(m, t.id);
  return m;
}

void AddedVocabulary::split(std::vector<Piece>& pieces, bool normalized_set) const {
  const Trie& trie = normalized_set ? normalized_ : raw_;
  if (!trie.root_used) return;
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (auto& p : pieces) {
    if (p.id >= 0) out.push_back(std::move(p));
    else split_one(p, trie, out);
  }
  pieces = std::move(out);
}

void AddedVocabulary::split_one(const Piece& piece, const Trie& trie, std::vector<Piece>& out) const {
  const std::string_view s = piece.text;
  size_t start_offset = 0;
  auto emit_text = [&](size_t b, size_t e) {
    if (e <= b) return;
    Piece p;
    p.text = std::string(s.substr(b, e - b));
    p.at_start = piece.at_start && b == 0;
    out.push_back(std::move(p));
  };
  size_t pos = 0;
  while (pos < s.size()) {
    if (!trie.first_byte[static_cast<unsigned char>(s[pos])]) {
      ++pos;
      continue;
    }
    const auto [k, end] = trie.longest_at(s, pos);
    if (k < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[k];
    size_t start = pos, stop = end;
    pos = end;  // matching resumes after the match whether or not it is kept
    if (t.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_cp(s.substr(0, start)));
      bool stop_space = stop == s.size();
      if (!stop_space) {
        size_t i = stop;
        stop_space = !is_word_char(next_cp(s, i));
      }
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t b = start;
      while (b > 0) {
        size_t k2 = b - 1;
        while (k2 > 0 && (static_cast<unsigned char>(s[k2]) & 0xC0) == 0x80) --k2;
        size_t i = k2;
        if (!is_whitespace(next_cp(s, i))) break;
        b = k2;
      }
      start = std::max(b, start_offset);
    }
    if (t.rstrip) {
      while (stop < s.size()) {
        size_t i = stop;
        if (!is_whitespace(next_cp(s, i))) break;
        stop = i;
      }
    }
    emit_text(start_offset, start);
    Piece tokp;
    tokp.text = std::string(s.substr(start, stop - start));
    tokp.id = t.id;
    out.push_back(std::move(tokp));
    start_offset = stop;
    pos = std::max(pos, stop);
  }
  emit_text(start_offset, s.size());
}

}  // namespace breadth::tok
