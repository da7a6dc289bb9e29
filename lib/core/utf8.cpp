#include "core/utf8.hpp"

namespace breadth::tok {

namespace {
// Number of bytes of a possibly-truncated but so far well-formed sequence starting at s[i]
// (the "maximal subpart"), at least 1. `complete` tells whether it is a whole character.
size_t maximal_subpart(std::string_view s, size_t i, bool& complete) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  complete = false;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 < 0x80) { complete = true; return 1; }
  if (b0 >= 0xC2 && b0 <= 0xDF) need = 1;
  else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;  // C0, C1, F5..FF or a stray continuation byte
  }
  size_t n = 1;
  for (size_t k = 0; k < need; ++k) {
    if (i + n >= s.size()) return n;
    const auto b = static_cast<unsigned char>(s[i + n]);
    const unsigned char l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
    if (b < l || b > h) return n;
    ++n;
  }
  complete = true;
  return n;
}
}  // namespace

size_t valid_seq_len(std::string_view s, size_t i) {
  bool complete;
  size_t n = maximal_subpart(s, i, complete);
  return complete ? n : 0;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
    size_t n = valid_seq_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) { out.push_back(s[i++]); continue; }
    bool complete;
    size_t n = maximal_subpart(s, i, complete);
    if (complete) out.append(s.data() + i, n);
    else append_cp(out, kReplacementChar);
    i += n;
  }
  return out;
}

size_t complete_utf8_prefix(std::string_view s) {
  // Only a lead byte among the last four can start an unfinished character.
  for (size_t k = 1; k <= 4 && k <= s.size(); ++k) {
    const size_t lead = s.size() - k;
    const auto b = static_cast<unsigned char>(s[lead]);
    if ((b & 0xC0) == 0x80) continue;
    if (b < 0xC2 || b > 0xF4) return s.size();  // ASCII, or a byte no character starts with
    bool complete;
    const size_t n = maximal_subpart(s, lead, complete);
    // Unfinished only when the well-formed part runs to the end of the string without completing.
    return (!complete && lead + n == s.size()) ? lead : s.size();
  }
  return s.size();
}

}  // namespace breadth::tok
