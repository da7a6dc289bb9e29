// A compiled PCRE2 regular expression (UTF + UCP, JIT when available) with the match iteration of
// the Oniguruma bindings that `tokenizers` uses, so splits agree with the reference.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace breadth::tok {

class Regex {
 public:
  /// Compiles an Oniguruma-style pattern (as found in tokenizer.json). `\w`/`\W` are rewritten to
  /// Oniguruma's Unicode word class (letters, marks, decimal digits, connector punctuation).
  /// Throws FormatError naming `what` when the pattern does not compile.
  Regex(std::string_view pattern, std::string_view what);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// Non-overlapping matches [start, end) over valid UTF-8 `text`, left to right. An empty match
  /// right after the previous match is skipped (Oniguruma's find_iter rule).
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  /// Regex-escaped form of a literal string.
  static std::string escape(std::string_view literal);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace breadth::tok
