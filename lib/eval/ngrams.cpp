#include "eval/ngrams.hpp"

namespace breadth::eval {

std::vector<std::vector<int32_t>> intern_tokens(const std::vector<std::vector<std::string>>& texts) {
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::vector<int32_t>> out(texts.size());
  for (size_t t = 0; t < texts.size(); ++t) {
    out[t].reserve(texts[t].size());
    for (const auto& tok : texts[t]) {
      auto it = vocab.emplace(tok, static_cast<int32_t>(vocab.size())).first;
      out[t].push_back(it->second);
    }
  }
  return out;
}

NgramCounts count_ngrams(const std::vector<int32_t>& ids, int n) {
  NgramCounts counts;
  if (n <= 0 || ids.size() < static_cast<size_t>(n)) return counts;
  counts.reserve(ids.size());
  for (size_t i = 0; i + n <= ids.size(); ++i) ++counts[ngram_key(ids, i, n)];
  return counts;
}

}  // namespace breadth::eval
