// N-gram bookkeeping over a group of tokenized texts: tokens are interned to integers once, and an
// n-gram is keyed by the bytes of its ids, so counting never compares strings twice.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace breadth::eval {

/// Each text as a sequence of integer ids (equal tokens, equal ids) for one group.
std::vector<std::vector<int32_t>> intern_tokens(const std::vector<std::vector<std::string>>& texts);

/// The key of ids[i .. i+n).
inline std::string ngram_key(const std::vector<int32_t>& ids, size_t i, int n) {
  return std::string(reinterpret_cast<const char*>(ids.data() + i), sizeof(int32_t) * n);
}

using NgramCounts = std::unordered_map<std::string, int32_t>;
/// Counts of the n-grams of one sequence (empty when it is shorter than n).
NgramCounts count_ngrams(const std::vector<int32_t>& ids, int n);

}  // namespace breadth::eval
