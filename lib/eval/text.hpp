// Text helpers shared by the evaluation code: UTF-8 decoding, Python-compatible whitespace and
// lowercasing, and the word tokenizers the metrics are defined over.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace breadth::eval {

/// Decodes one code point at `text[pos]` and advances `pos`; an invalid or truncated sequence
/// yields U+FFFD and advances by one byte (never reads past the end).
char32_t next_code_point(std::string_view text, size_t& pos);

/// Python's str.isspace() for one code point.
bool is_python_space(char32_t cp);
/// Python's str.lower() for one code point, appended to `out` (simple case mapping from the C.UTF-8
/// locale plus U+0130, whose full lowercase is "i" + U+0307).
void append_python_lower(std::string& out, char32_t cp);
std::string python_lower(std::string_view text);
/// Python's str.split() with no argument.
std::vector<std::string> python_split(std::string_view text);

}  // namespace breadth::eval
