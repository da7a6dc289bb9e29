// UTF-8 helpers shared by the tokenizer pipeline: decoding one code point, encoding one, and the
// replacement of invalid input by U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace breadth::tok {

constexpr char32_t kReplacementChar = 0xFFFD;

/// Decodes the code point at `s[i]` of a string known to be valid UTF-8 and advances `i`.
inline char32_t next_cp(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) { ++i; return b0; }
  if (b0 < 0xE0) {
    char32_t c = ((b0 & 0x1F) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3F);
    i += 2;
    return c;
  }
  if (b0 < 0xF0) {
    char32_t c = ((b0 & 0x0F) << 12) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 6) |
                 (static_cast<unsigned char>(s[i + 2]) & 0x3F);
    i += 3;
    return c;
  }
  char32_t c = ((b0 & 0x07) << 18) | ((static_cast<unsigned char>(s[i + 1]) & 0x3F) << 12) |
               ((static_cast<unsigned char>(s[i + 2]) & 0x3F) << 6) |
               (static_cast<unsigned char>(s[i + 3]) & 0x3F);
  i += 4;
  return c;
}

/// Byte length of the UTF-8 sequence that starts with `b0` (1 for stray continuation bytes).
inline size_t cp_len(unsigned char b0) {
  return b0 < 0xC0 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
}

inline void append_cp(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

inline std::string cp_to_utf8(char32_t c) {
  std::string s;
  append_cp(s, c);
  return s;
}

/// Length of the valid UTF-8 sequence at `s[i]`, or 0 when the bytes there are not one (overlong,
/// surrogate, beyond U+10FFFF, truncated or a stray continuation byte).
size_t valid_seq_len(std::string_view s, size_t i);

/// True when `s` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view s);

/// `s` with every ill-formed subsequence replaced by U+FFFD, following the Unicode "maximal subpart"
/// practice that Python's `errors="replace"` and Rust's `from_utf8_lossy` both use, so the count of
/// replacement characters matches theirs.
std::string sanitize_utf8(std::string_view s);

/// Number of leading bytes of `s` that form complete UTF-8 characters; an incomplete (but so far
/// valid) sequence at the end is excluded. Used by streaming decoders to hold back half characters.
size_t complete_utf8_prefix(std::string_view s);

}  // namespace breadth::tok
