#include "tokenizer/token_classes.hpp"

#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <vector>

namespace breadth {

namespace tok {

namespace {

constexpr char32_t kFragment = 0xFFFFFFFF;  // a byte that is not part of a valid UTF-8 character
constexpr char32_t kSpaceMarker = 0x2581;   // SentencePiece's '▁'

// Code points of `s`; each byte of an ill-formed sequence becomes kFragment.
std::vector<char32_t> decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    const size_t len = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 && b0 < 0xE0 ? 2 : 0;
    char32_t c = len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      c = (c << 6) | (b & 0x3F);
    }
    ok = ok && !(len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) &&
         !(len == 4 && (c < 0x10000 || c > 0x10FFFF));
    if (!ok) {
      out.push_back(kFragment);
      ++i;
      continue;
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

// Python's str.isspace(), the whitespace the SPEC removes before judging punctuation.
bool is_space(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

int8_t category(char32_t c) {
  return c == kFragment ? static_cast<int8_t>(U_UNASSIGNED) : u_charType(static_cast<UChar32>(c));
}

// Unicode general category P* or S*.
bool is_punct_or_symbol(char32_t c) {
  if (c == kFragment) return false;
  if (c < 0x80) return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
                       (c >= 0x7B && c <= 0x7E);
  switch (category(c)) {
    case U_CONNECTOR_PUNCTUATION: case U_DASH_PUNCTUATION: case U_START_PUNCTUATION:
    case U_END_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION: case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return true;
    default:
      return false;
  }
}

// Letters, marks and numbers (L*, M*, N*): what a word is spelled with.
bool is_word_char(char32_t c) {
  if (c == kFragment) return false;
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
  const int32_t mask = U_MASK(category(c));
  return (mask & (U_GC_L_MASK | U_GC_M_MASK | U_GC_N_MASK)) != 0;
}

std::string lowercase(const std::u32string& word) {
  bool ascii = true;
  for (char32_t c : word) ascii = ascii && c < 0x80;
  std::string out;
  if (ascii) {
    for (char32_t c : word) out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return out;
  }
  icu::UnicodeString u;
  for (char32_t c : word) u.append(static_cast<UChar32>(c));
  u.toLower(icu::Locale::getRoot()).toUTF8String(out);
  return out;
}

std::unordered_set<std::string> parse_word_list() {
  static const char* const kText =
#include "tokenizer/function_words.inc"
      ;
  std::unordered_set<std::string> words;
  std::string_view text(kText);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty() && line[0] != '#') words.emplace(line);
    pos = nl + 1;
  }
  return words;
}

}  // namespace

const std::unordered_set<std::string>& function_words() {
  static const std::unordered_set<std::string> words = parse_word_list();
  return words;
}

TokenTextClass classify_token_text(std::string_view bytes, bool is_special) {
  TokenTextClass r;
  if (is_special) {
    r.starts_word = r.is_punctuation = r.ends_word = true;
    return r;
  }
  const std::vector<char32_t> cps = decode(bytes);
  bool punct = true;
  for (char32_t c : cps) {
    if (!is_space(c) && !is_punct_or_symbol(c)) {
      punct = false;
      break;
    }
  }
  r.is_punctuation = punct;
  r.starts_word = punct || (!cps.empty() && (is_space(cps.front()) || cps.front() == kSpaceMarker));
  r.ends_word = punct || (!cps.empty() && (is_space(cps.back()) || is_punct_or_symbol(cps.back())));
  size_t i = 0;
  while (i < cps.size() && (is_space(cps[i]) || cps[i] == kSpaceMarker)) ++i;
  std::u32string word;
  while (i < cps.size() && is_word_char(cps[i])) word.push_back(cps[i++]);
  r.word = lowercase(word);
  r.is_function_word = !r.word.empty() && function_words().count(r.word) > 0;
  return r;
}

}  // namespace tok

TokenClasses compute_token_classes(const Tokenizer& tokenizer) {
  const int32_t n = tokenizer.vocab_size();
  TokenClasses c;
  c.starts_word.assign(static_cast<size_t>(n), 0);
  c.is_punctuation.assign(static_cast<size_t>(n), 0);
  c.ends_word.assign(static_cast<size_t>(n), 0);
  c.is_function_word.assign(static_cast<size_t>(n), 0);
  c.is_special.assign(static_cast<size_t>(n), 0);
  for (int32_t id = 0; id < n; ++id) {
    const bool special = tokenizer.is_special(id);
    const tok::TokenTextClass t = tok::classify_token_text(tokenizer.token_bytes(id), special);
    const auto i = static_cast<size_t>(id);
    c.starts_word[i] = t.starts_word;
    c.is_punctuation[i] = t.is_punctuation;
    c.ends_word[i] = t.ends_word;
    c.is_function_word[i] = t.is_function_word;
    c.is_special[i] = special;
  }
  return c;
}

}  // namespace breadth
