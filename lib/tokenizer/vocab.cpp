#include "tokenizer/vocab.hpp"

#include <unordered_map>

#include "core/check.hpp"

namespace breadth::tok {

void Vocab::assign(std::vector<std::pair<std::string, int32_t>> entries, std::string_view where) {
  // A token repeated with another id keeps its last id, as a JSON object read by serde does.
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(entries.size());
  int32_t max_id = -1;
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& [tok, id] = entries[k];
    BREADTH_CHECK_FORMAT(id >= 0 && id < (1 << 30), "{}: token '{}' has an invalid id {}", where, tok, id);
    last[tok] = k;
    max_id = std::max(max_id, id);
  }
  // Ids index a dense table: refuse sparse ones that would make it absurdly large.
  BREADTH_CHECK_FORMAT(max_id < 0 || static_cast<size_t>(max_id) < entries.size() * 8 + 65536,
                       "{}: token id {} is implausibly large for a vocabulary of {} tokens", where, max_id,
                       entries.size());
  std::vector<uint8_t> keep(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) keep[k] = last.at(entries[k].first) == k;
  const size_t distinct = last.size();
  last.clear();  // its keys view the strings moved below
  tokens_.assign(static_cast<size_t>(max_id + 1), std::string());
  present_.assign(tokens_.size(), 0);
  for (size_t k = 0; k < entries.size(); ++k) {
    auto& [tok, id] = entries[k];
    if (!keep[k]) continue;
    BREADTH_CHECK_FORMAT(!present_[id], "{}: id {} is given to both '{}' and '{}'", where, id, tokens_[id], tok);
    present_[id] = 1;
    tokens_[id] = std::move(tok);
  }
  size_t cap = 16;
  while (cap < distinct * 2) cap <<= 1;
  slots_.assign(cap, -1);
  mask_ = cap - 1;
  for (int32_t id = 0; id < static_cast<int32_t>(tokens_.size()); ++id) {
    if (!present_[id]) continue;
    size_t h = std::hash<std::string_view>{}(tokens_[id]) & mask_;
    while (slots_[h] >= 0) h = (h + 1) & mask_;
    slots_[h] = id;
  }
}

}  // namespace breadth::tok
