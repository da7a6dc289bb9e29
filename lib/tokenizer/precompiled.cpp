#include "tokenizer/precompiled.hpp"

#include <unicode/brkiter.h>
#include <unicode/utext.h>

#include <cstring>
#include <memory>

#include "core/check.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob, std::string_view where) : where_(where) {
  BREADTH_CHECK_FORMAT(blob.size() >= 4, "{}: precompiled_charsmap has {} bytes, fewer than its 4-byte header",
                       where, blob.size());
  auto le32 = [&](size_t at) {
    const auto* p = reinterpret_cast<const unsigned char*>(blob.data() + at);
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
  };
  // As spm_precompiled reads it: trie_size / 4 units, the rest is the pool.
  const uint64_t n_units = le32(0) / 4;
  BREADTH_CHECK_FORMAT(n_units <= (blob.size() - 4) / 4,
                       "{}: precompiled_charsmap declares a {}-byte trie but holds only {} bytes after the header",
                       where, le32(0), blob.size() - 4);
  BREADTH_CHECK_FORMAT(n_units > 0, "{}: precompiled_charsmap has an empty trie", where);
  units_.resize(n_units);
  for (size_t k = 0; k < n_units; ++k) units_[k] = le32(4 + 4 * k);
  pool_.assign(blob.substr(4 + 4 * n_units));
  BREADTH_CHECK_FORMAT(is_valid_utf8(pool_), "{}: the replacement strings of precompiled_charsmap are not valid UTF-8",
                       where);
}

uint32_t PrecompiledCharsmap::unit(size_t pos) const {
  BREADTH_CHECK_FORMAT(pos < units_.size(), "{}: precompiled_charsmap trie points to unit {} of {}", where_, pos,
                       units_.size());
  return units_[pos];
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  // darts-clone's unit layout.
  auto offset = [](uint32_t u) { return static_cast<size_t>((u >> 10) << ((u & (1u << 9)) >> 6)); };
  auto has_leaf = [](uint32_t u) { return ((u >> 8) & 1) != 0; };
  auto label = [](uint32_t u) { return u & ((1u << 31) | 0xFF); };
  auto value = [](uint32_t u) { return u & ((1u << 31) - 1); };
  size_t node = 0;
  uint32_t u = unit(node);
  node ^= offset(u);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    node ^= c;
    u = unit(node);
    if (label(u) != c) return std::nullopt;
    node ^= offset(u);
    if (has_leaf(u)) {
      // The first (shortest) match decides.
      const size_t start = value(unit(node));
      BREADTH_CHECK_FORMAT(start <= pool_.size(), "{}: precompiled_charsmap points to byte {} of a {}-byte pool",
                           where_, start, pool_.size());
      BREADTH_CHECK_FORMAT(start == pool_.size() || valid_seq_len(pool_, start) > 0,
                           "{}: precompiled_charsmap points into the middle of a character (byte {})", where_, start);
      const size_t end = pool_.find('\0', start);
      return std::string_view(pool_).substr(start, (end == std::string::npos ? pool_.size() : end) - start);
    }
  }
  return std::nullopt;
}

std::vector<size_t> grapheme_boundaries(std::string_view s) {
  std::vector<size_t> out;
  out.push_back(0);
  if (s.empty()) return out;
  // Plain ASCII without CR: every byte is a cluster of its own (CR LF is the only ASCII pair).
  bool simple = true;
  for (unsigned char c : s) simple = simple && c < 0x80 && c != '\r';
  if (simple) {
    for (size_t i = 1; i <= s.size(); ++i) out.push_back(i);
    return out;
  }
  UErrorCode st = U_ZERO_ERROR;
  thread_local std::unique_ptr<icu::BreakIterator> it(
      icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), st));
  if (!it || U_FAILURE(st)) fail<Error>("ICU cannot create a grapheme break iterator ({})", u_errorName(st));
  UText* ut = utext_openUTF8(nullptr, s.data(), static_cast<int64_t>(s.size()), &st);
  if (U_FAILURE(st)) fail<Error>("ICU cannot open text ({})", u_errorName(st));
  it->setText(ut, st);
  for (int32_t b = it->next(); b != icu::BreakIterator::DONE; b = it->next()) out.push_back(static_cast<size_t>(b));
  utext_close(ut);
  if (out.back() != s.size()) out.push_back(s.size());
  return out;
}

std::string PrecompiledCharsmap::normalize(std::string_view s) const {
  std::string out;
  out.reserve(s.size());
  const auto bounds = grapheme_boundaries(s);
  for (size_t g = 0; g + 1 < bounds.size(); ++g) {
    const std::string_view grapheme = s.substr(bounds[g], bounds[g + 1] - bounds[g]);
    if (grapheme.size() < 6) {
      if (auto norm = transform(grapheme)) {
        out += *norm;
        continue;
      }
    }
    for (size_t i = 0; i < grapheme.size();) {
      const size_t n = std::min(cp_len(static_cast<unsigned char>(grapheme[i])), grapheme.size() - i);
      const std::string_view ch = grapheme.substr(i, n);
      if (auto norm = transform(ch)) out += *norm;
      else out += ch;
      i += n;
    }
  }
  return out;
}

}  // namespace breadth::tok
