#include "tokenizer/spm_merges.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "core/check.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

std::vector<std::pair<std::string, std::string>> merges_from_scores(const std::vector<std::string>& tokens,
                                                                    const std::vector<double>& scores) {
  BREADTH_CHECK_ARG(tokens.size() == scores.size(), "merges_from_scores: {} tokens but {} scores", tokens.size(),
                    scores.size());
  // Python dict semantics: the last id of a repeated token, its first position in iteration order.
  std::unordered_map<std::string_view, int32_t> last_id;
  std::vector<int32_t> order;  // first occurrence of each distinct token
  last_id.reserve(tokens.size() * 2);
  for (size_t i = 0; i < tokens.size(); ++i) {
    BREADTH_CHECK_ARG(!std::isnan(scores[i]), "merges_from_scores: the score of token {} is NaN", i);
    BREADTH_CHECK_ARG(is_valid_utf8(tokens[i]), "merges_from_scores: token {} is not valid UTF-8", i);
    auto [it, fresh] = last_id.try_emplace(tokens[i], static_cast<int32_t>(i));
    if (fresh) order.push_back(static_cast<int32_t>(i));
    else it->second = static_cast<int32_t>(i);
  }

  struct Merge {
    int32_t left, right;  // ids (last occurrence) of the two parts
    double score;
    uint32_t left_len, right_len;  // code points
    uint32_t split;                // byte offset of the split in the merged token
    int32_t token;                 // the merged token's first position
  };
  std::vector<Merge> merges;
  std::vector<Merge> local;
  for (int32_t first : order) {
    const std::string_view t = tokens[first];
    const double score = scores[last_id.at(t)];
    local.clear();
    uint32_t left_len = 0;
    size_t total_cps = 0;
    for (size_t i = 0; i < t.size(); i += cp_len(static_cast<unsigned char>(t[i]))) ++total_cps;
    for (size_t i = 0; i < t.size();) {
      i += cp_len(static_cast<unsigned char>(t[i]));
      ++left_len;
      if (i >= t.size()) break;
      const auto l = last_id.find(t.substr(0, i));
      if (l == last_id.end()) continue;
      const auto r = last_id.find(t.substr(i));
      if (r == last_id.end()) continue;
      local.push_back(Merge{l->second, r->second, score, left_len, static_cast<uint32_t>(total_cps - left_len),
                            static_cast<uint32_t>(i), first});
    }
    std::sort(local.begin(), local.end(),
              [](const Merge& a, const Merge& b) { return a.left != b.left ? a.left < b.left : a.right < b.right; });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  // Python's sorted(..., reverse=True) is stable: equal keys keep their order.
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.left_len != b.left_len) return a.left_len > b.left_len;
    return a.right_len > b.right_len;
  });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const auto& m : merges) {
    const std::string& t = tokens[m.token];
    out.emplace_back(t.substr(0, m.split), t.substr(m.split));
  }
  return out;
}

}  // namespace breadth::tok
