// Splits a Jinja template into tokens the way Jinja2's lexer does under transformers' settings
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False): text, `{{ }}`, `{% %}` with
// their whitespace control (`-`, `+`), comments dropped, `{% raw %}` kept as text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace breadth::jinja {

/// Where something is in the template source (1-based), for error messages.
struct SourcePos {
  int line = 1;
  int column = 1;
};

enum class TokenType {
  kData,        ///< template text outside tags (already whitespace-controlled)
  kVarBegin,    ///< {{
  kVarEnd,      ///< }}
  kBlockBegin,  ///< {%
  kBlockEnd,    ///< %}
  kName,
  kString,      ///< value holds the unescaped string
  kInteger,
  kFloat,
  kOperator,    ///< value holds the operator text ("+", "//", "==", "(", ...)
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string value;
  int64_t int_value = 0;
  double float_value = 0.0;
  SourcePos pos;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

/// Tokens of `source`, ending with a kEnd token. Throws breadth::FormatError on malformed input
/// (unterminated tags, comments or strings, unbalanced brackets, characters that start no token).
std::vector<Token> lex(std::string_view source, const LexOptions& options = {});

}  // namespace breadth::jinja
