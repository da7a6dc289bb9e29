#include "tokenizer/pipeline.hpp"

#include <algorithm>
#include <array>

namespace breadth::tok {

void split_piece(const Piece& piece, const std::vector<Span>& spans, SplitBehavior behavior,
                 std::vector<Piece>& out) {
  // (start, end, remove) after applying the behavior, as NormalizedString::split does.
  struct Cut { size_t start, end; bool remove; };
  std::vector<Cut> cuts;
  cuts.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : spans) cuts.push_back({s.start, s.end, false});
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : spans) cuts.push_back({s.start, s.end, s.is_match});
      break;
    case SplitBehavior::kContiguous: {
      bool prev = false;
      for (const auto& s : spans) {
        if (s.is_match == prev && !cuts.empty()) cuts.back().end = s.end;
        else cuts.push_back({s.start, s.end, false});
        prev = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool prev = false;
      for (const auto& s : spans) {
        if (s.is_match && !prev && !cuts.empty()) cuts.back().end = s.end;
        else cuts.push_back({s.start, s.end, false});
        prev = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !prev && !cuts.empty()) cuts.back().start = it->start;
        else cuts.push_back({it->start, it->end, false});
        prev = it->is_match;
      }
      std::reverse(cuts.begin(), cuts.end());
      break;
    }
  }
  for (const auto& c : cuts) {
    if (c.remove || c.end <= c.start) continue;
    Piece p;
    p.text = piece.text.substr(c.start, c.end - c.start);
    p.at_start = piece.at_start && c.start == 0;
    out.push_back(std::move(p));
  }
}

std::vector<Span> spans_from_matches(const std::vector<std::pair<size_t, size_t>>& matches, size_t n,
                                     bool invert) {
  std::vector<Span> spans;
  if (n == 0) {
    spans.push_back({0, 0, false});
    return spans;
  }
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [s, e] : matches) {
    if (prev != s) spans.push_back({prev, s, invert});
    spans.push_back({s, e, !invert});
    prev = e;
  }
  if (prev != n) spans.push_back({prev, n, invert});
  return spans;
}

std::vector<std::pair<size_t, size_t>> find_literal(std::string_view text, std::string_view lit) {
  std::vector<std::pair<size_t, size_t>> out;
  if (lit.empty()) return out;
  for (size_t pos = text.find(lit); pos != std::string_view::npos; pos = text.find(lit, pos + lit.size()))
    out.emplace_back(pos, pos + lit.size());
  return out;
}

namespace {
struct ByteTables {
  std::vector<std::string> to_unicode;
  std::array<int, 324> from_unicode{};  // code points used are < 0x144
  ByteTables() : to_unicode(256) {
    from_unicode.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      to_unicode[b] = cp_to_utf8(c);
      from_unicode[c] = b;
    }
  }
};
const ByteTables& tables() {
  static const ByteTables t;
  return t;
}
}  // namespace

const std::vector<std::string>& byte_to_unicode() { return tables().to_unicode; }

int byte_of_unicode(char32_t c) { return c < 324 ? tables().from_unicode[c] : -1; }

}  // namespace breadth::tok
