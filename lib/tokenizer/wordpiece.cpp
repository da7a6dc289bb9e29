#include "tokenizer/wordpiece.hpp"

#include "core/check.hpp"

namespace breadth::tok {

WordPieceModel::WordPieceModel(std::vector<std::pair<std::string, int32_t>> vocab, std::string unk_token,
                               std::string continuing_subword_prefix, size_t max_input_chars_per_word,
                               std::string_view where)
    : unk_(std::move(unk_token)), prefix_(std::move(continuing_subword_prefix)), max_chars_(max_input_chars_per_word) {
  vocab_.assign(std::move(vocab), where);
}

int32_t WordPieceModel::unk_id() const {
  const auto id = vocab_.find(unk_);
  BREADTH_CHECK_FORMAT(id.has_value(), "WordPiece unk_token '{}' is not in the vocabulary", unk_);
  return *id;
}

void WordPieceModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  size_t chars = 0;
  for (unsigned char b : word) chars += (b & 0xC0) != 0x80;
  if (chars > max_chars_) {
    out.push_back(unk_id());
    return;
  }
  const size_t first = out.size();
  std::string buf;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    std::optional<int32_t> found;
    while (start < end) {
      std::string_view sub = word.substr(start, end - start);
      if (start > 0) {
        buf.assign(prefix_);
        buf.append(sub);
        sub = buf;
      }
      if ((found = vocab_.find(sub))) break;
      // Drop the last character of the candidate.
      do --end; while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (!found) {
      out.resize(first);
      out.push_back(unk_id());
      return;
    }
    out.push_back(*found);
    start = end;
  }
}

}  // namespace breadth::tok
