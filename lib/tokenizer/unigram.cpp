#include "tokenizer/unigram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>
#include <limits>

#include "core/check.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {
constexpr double kUnkPenalty = 10.0;  // tokenizers' K_UNK_PENALTY
}

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
                           bool byte_fallback, std::string_view where)
    : unk_id_(unk_id), byte_fallback_(byte_fallback), where_(where) {
  if (unk_id_) {
    BREADTH_CHECK_FORMAT(!pieces.empty(), "{}: Unigram model has unk_id {} but an empty vocabulary", where, *unk_id_);
    BREADTH_CHECK_FORMAT(*unk_id_ >= 0 && static_cast<size_t>(*unk_id_) < pieces.size(),
                         "{}: Unigram unk_id {} is outside the vocabulary of {} pieces", where, *unk_id_, pieces.size());
  }
  BREADTH_CHECK_FORMAT(pieces.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()),
                       "{}: Unigram vocabulary too large", where);
  double min_score = std::numeric_limits<double>::infinity();
  token_store_.reserve(pieces.size());
  scores_.reserve(pieces.size());
  std::vector<std::pair<std::string, int32_t>> entries;
  entries.reserve(pieces.size());
  for (size_t id = 0; id < pieces.size(); ++id) {
    BREADTH_CHECK_FORMAT(is_valid_utf8(pieces[id].first), "{}: Unigram piece {} is not valid UTF-8", where, id);
    min_score = std::min(min_score, pieces[id].second);
    scores_.push_back(pieces[id].second);
    entries.emplace_back(pieces[id].first, static_cast<int32_t>(id));
    token_store_.push_back(std::move(pieces[id].first));
  }
  unk_score_ = min_score - kUnkPenalty;
  vocab_.assign(std::move(entries), where);
  // Distinct tokens, each with the id the vocabulary maps it to, sorted bytewise for prefix search.
  sorted_.reserve(token_store_.size());
  for (size_t id = 0; id < token_store_.size(); ++id) {
    const std::string& t = token_store_[id];
    if (t.empty()) continue;  // the reference's trie never yields an empty prefix
    const auto mapped = vocab_.find(t);
    if (mapped && *mapped == static_cast<int32_t>(id)) sorted_.emplace_back(t, *mapped);
  }
  std::sort(sorted_.begin(), sorted_.end());
}

std::vector<std::string_view> UnigramModel::segment(std::string_view s) const {
  struct Node {
    int32_t id = -1;
    double score = 0;
    int64_t starts_at = -1;  // -1: not reached
  };
  const size_t n = s.size();
  std::vector<Node> best(n + 1);
  for (size_t start = 0; start < n;) {
    const double till_here = best[start].score;
    const size_t mblen = std::min(cp_len(static_cast<unsigned char>(s[start])), n - start);
    bool has_single = false;
    // Every vocabulary token that is a prefix of s[start..], shortest first: narrow the sorted range
    // one byte at a time.
    size_t lo = 0, hi = sorted_.size();
    for (size_t k = 0; start + k < n && lo < hi; ++k) {
      const char c = s[start + k];
      auto byte_at = [k](const std::pair<std::string_view, int32_t>& e) {
        return e.first.size() > k ? static_cast<int>(static_cast<unsigned char>(e.first[k])) : -1;
      };
      const int cb = static_cast<unsigned char>(c);
      lo = std::partition_point(sorted_.begin() + lo, sorted_.begin() + hi,
                                [&](const auto& e) { return byte_at(e) < cb; }) - sorted_.begin();
      hi = std::partition_point(sorted_.begin() + lo, sorted_.begin() + hi,
                                [&](const auto& e) { return byte_at(e) <= cb; }) - sorted_.begin();
      if (lo < hi && sorted_[lo].first.size() == k + 1) {
        // sorted_[lo] equals s[start..start+k+1]: a token ends here.
        const size_t key_pos = start + k + 1;
        const int32_t id = sorted_[lo].second;
        const double cand = scores_[id] + till_here;
        Node& target = best[key_pos];
        if (target.starts_at < 0 || cand > target.score) {
          target.score = cand;
          target.starts_at = static_cast<int64_t>(start);
          target.id = id;
        }
        if (!has_single && k + 1 == mblen) has_single = true;
      }
    }
    if (!has_single) {
      Node& target = best[start + mblen];
      const double cand = unk_score_ + till_here;
      if (target.starts_at < 0 || cand > target.score) {
        if (!unk_id_)
          fail<FormatError>("{}: the Unigram model has no unk_id, and no piece covers the character at byte {} of {:?}",
                            where_, start, std::string(s.substr(0, 200)));
        target.score = cand;
        target.starts_at = static_cast<int64_t>(start);
        target.id = *unk_id_;
      }
    }
    start += mblen;
  }
  // Back from the end; runs of unk nodes fuse into one piece.
  std::vector<std::string_view> pieces;
  size_t ends_at = n, unk_end = std::string::npos;
  while (ends_at > 0) {
    const Node& node = best[ends_at];
    const auto start = static_cast<size_t>(node.starts_at);
    if (unk_id_ && node.id == *unk_id_) {
      if (unk_end == std::string::npos) unk_end = ends_at;
    } else {
      if (unk_end != std::string::npos) {
        pieces.push_back(s.substr(ends_at, unk_end - ends_at));
        unk_end = std::string::npos;
      }
      pieces.push_back(s.substr(start, ends_at - start));
    }
    ends_at = start;
  }
  if (unk_end != std::string::npos) pieces.push_back(s.substr(0, unk_end));
  std::reverse(pieces.begin(), pieces.end());
  return pieces;
}

void UnigramModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  for (std::string_view piece : segment(word)) {
    if (auto id = vocab_.find(piece)) {
      out.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      bool all = true;
      for (unsigned char b : piece) {
        const auto id = vocab_.find(fmt::format("<0x{:02X}>", b));
        if (!id) {
          all = false;
          break;
        }
        bytes.push_back(*id);
      }
      if (all) {
        out.insert(out.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (!unk_id_) fail<FormatError>("{}: the Unigram model has no unk_id for piece {:?}", where_, std::string(piece));
    out.push_back(*unk_id_);
  }
}

double serde_json_f64(double exact) {
  if (!std::isfinite(exact) || exact == 0) return exact;
  // The shortest digits D (L of them) and the exponent kk with 10^(kk-1) <= |exact| < 10^kk.
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(exact), std::chars_format::scientific);
  if (r.ec != std::errc()) return exact;
  uint64_t digits = 0;
  int length = 0;
  const char* p = buf;
  for (; p < r.ptr && *p != 'e'; ++p) {
    if (*p == '.') continue;
    digits = digits * 10 + static_cast<uint64_t>(*p - '0');
    ++length;
  }
  // The exponent after 'e' (to_chars writes no terminating NUL: parse up to r.ptr only).
  int e10 = 0;
  bool negative = false;
  for (const char* q = p + 1; q < r.ptr; ++q) {
    if (*q == '-') negative = true;
    else if (*q >= '0' && *q <= '9') e10 = e10 * 10 + (*q - '0');
  }
  const int kk = (negative ? -e10 : e10) + 1;
  const int k = kk - length;
  // ryu writes 0 <= k, kk <= 16 as "D000.0": one more digit, exponent -1. Every other form
  // (12.34, 0.001234, 1e30, 1.234e33) gives serde_json the significand D and exponent k.
  uint64_t significand = digits;
  int exponent = k;
  if (k >= 0 && kk <= 16) {
    for (int i = 0; i <= k; ++i) significand *= 10;
    exponent = -1;
  }
  // serde_json's f64_from_parts, with its table of correctly rounded powers of ten.
  static const std::array<double, 309> pow10 = [] {
    std::array<double, 309> t{};
    for (int i = 0; i < 309; ++i) t[i] = std::strtod(("1e" + std::to_string(i)).c_str(), nullptr);
    return t;
  }();
  double f = static_cast<double>(significand);
  for (;;) {
    const int a = exponent < 0 ? -exponent : exponent;
    if (a < 309) {
      if (exponent >= 0) f *= pow10[a];
      else f /= pow10[a];
      break;
    }
    if (f == 0) break;
    if (exponent >= 0) return exact;  // out of range for serde_json; cannot come from a finite f64
    f /= 1e308;
    exponent += 308;
  }
  return exact < 0 ? -f : f;
}

}  // namespace breadth::tok
