// Unicode character properties and normalization forms, as the reference tokenizers (Rust std and
// the unicode-normalization crate) define them, computed with ICU.
#pragma once

#include <string>
#include <string_view>

namespace breadth::tok {

enum class NormForm { kNFC, kNFD, kNFKC, kNFKD };

/// `s` (valid UTF-8) in normalization form `form`.
std::string normalize(std::string_view s, NormForm form);
/// True when `s` is already in `form` (a fast check that lets NFC skip most text).
bool is_normalized(std::string_view s, NormForm form);

/// Rust's `char::is_whitespace`: the Unicode White_Space property.
bool is_whitespace(char32_t c);
/// Python's `str.isspace` for one character: general category Zs or bidirectional class WS, B or S
/// (transformers' GGUF conversion tests tokens with it).
bool is_python_space(char32_t c);
/// Rust's `char::is_alphanumeric`: Alphabetic or a numeric category (Nd, Nl, No).
bool is_alphanumeric(char32_t c);
/// Rust's `char::is_numeric`: general category Nd, Nl or No.
bool is_numeric(char32_t c);
/// General category P* (Pc, Pd, Ps, Pe, Pi, Pf, Po).
bool is_punctuation(char32_t c);
/// General category C* (Cc, Cf, Cs, Co, Cn): what BERT calls a control character.
bool is_other(char32_t c);
/// General category Mn (a nonspacing combining mark, dropped by StripAccents).
bool is_mark_nonspacing(char32_t c);
/// The CJK ideograph blocks that BERT surrounds with spaces.
bool is_chinese_char(char32_t c);

/// Rust's `char::to_lowercase` on each character: full mappings without context (so final sigma
/// is not special, and U+0130 becomes "i̇").
std::string to_lower(std::string_view s);

}  // namespace breadth::tok
