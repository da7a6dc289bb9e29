#include "chat/jinja_lexer.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

#include "core/check.hpp"
#include "chat/jinja_value.hpp"

namespace breadth::jinja {

namespace {

class Lexer {
 public:
  Lexer(std::string_view source, const LexOptions& options) : opt_(options) {
    // Jinja reads "\r\n" and "\r" as "\n" and drops one trailing newline (keep_trailing_newline=False).
    src_.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\r') {
        src_.push_back('\n');
        if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      } else {
        src_.push_back(source[i]);
      }
    }
    if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    const size_t n = src_.size();
    while (pos < n) {
      const size_t idx = find_tag_start(pos);
      if (idx == std::string::npos) {
        emit_data(src_.substr(pos), pos);
        break;
      }
      const char kind = src_[idx + 1];
      size_t after = idx + 2;
      char sign = 0;
      if (after < n && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      size_t raw_body = 0;
      const bool raw = kind == '%' && match_raw_begin(after, raw_body);

      std::string text = src_.substr(pos, idx - pos);
      strip_before_tag(text, sign, kind != '{');
      emit_data(std::move(text), pos);

      if (raw) {
        line_starting_ = src_[raw_body - 1] == '\n';
        pos = lex_raw(raw_body);
      } else if (kind == '#') {
        pos = skip_comment(after, idx);
      } else {
        pos = lex_tag(kind, idx, after);
      }
    }
    Token end;
    end.type = TokenType::kEnd;
    end.pos = pos_at(src_.size());
    tokens_.push_back(std::move(end));
    return std::move(tokens_);
  }

 private:
  SourcePos pos_at(size_t offset) const {
    size_t lo = 0, hi = line_starts_.size();
    while (hi - lo > 1) {
      const size_t mid = (lo + hi) / 2;
      if (line_starts_[mid] <= offset) lo = mid; else hi = mid;
    }
    return SourcePos{static_cast<int>(lo + 1), static_cast<int>(offset - line_starts_[lo] + 1)};
  }

  [[noreturn]] void error(size_t offset, const std::string& what) const {
    const SourcePos p = pos_at(offset);
    fail<FormatError>("chat template syntax error at line {}, column {}: {}", p.line, p.column, what);
  }

  size_t find_tag_start(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  // Length of the Python whitespace character at `i` (0 when none); `\s` in Jinja's regexes.
  size_t space_len(size_t i) const {
    if (i >= src_.size()) return 0;
    const auto b = static_cast<unsigned char>(src_[i]);
    if (b < 0x80) return py_isspace(b) ? 1 : 0;
    const size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (i + len > src_.size()) return 0;
    const std::u32string cp = utf8_decode(std::string_view(src_).substr(i, len));
    return cp.size() == 1 && py_isspace(cp[0]) ? len : 0;
  }
  size_t skip_spaces(size_t i) const {
    while (size_t l = space_len(i)) i += l;
    return i;
  }
  bool starts_with(size_t i, std::string_view s) const {
    return src_.compare(i, s.size(), s) == 0 && i + s.size() <= src_.size();
  }

  static void rstrip_python(std::string& text) {
    // Python's str.rstrip(): drop trailing whitespace code points.
    while (!text.empty()) {
      size_t start = text.size() - 1;
      while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
      const std::u32string cp = utf8_decode(std::string_view(text).substr(start));
      if (cp.size() != 1 || !py_isspace(cp[0])) break;
      text.resize(start);
    }
  }

  // Whitespace control for the text before a tag: `-` strips all whitespace; otherwise, with
  // lstrip_blocks, spaces and tabs that alone precede a block or comment tag on its line go away.
  void strip_before_tag(std::string& text, char sign, bool lstrip_applies) const {
    if (sign == '-') {
      rstrip_python(text);
      return;
    }
    if (sign == '+' || !opt_.lstrip_blocks || !lstrip_applies) return;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos == 0 && !line_starting_) return;
    if (l_pos == text.size()) return;  // `\s+` needs at least one character
    std::string tail = text.substr(l_pos);
    for (char32_t c : utf8_decode(tail))
      if (!py_isspace(c)) return;
    text.resize(l_pos);
  }

  void emit_data(std::string text, size_t offset) {
    if (text.empty()) return;
    Token t;
    t.type = TokenType::kData;
    t.value = std::move(text);
    t.pos = pos_at(offset);
    tokens_.push_back(std::move(t));
  }

  void emit(TokenType type, size_t offset, std::string value = {}) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    t.pos = pos_at(offset);
    tokens_.push_back(std::move(t));
  }

  // `{%[-+]?\s*raw\s*(-%}\s*|%})`; on success `body` is where the raw text starts.
  bool match_raw_begin(size_t after_sign, size_t& body) const {
    size_t p = skip_spaces(after_sign);
    if (!starts_with(p, "raw")) return false;
    p = skip_spaces(p + 3);
    if (starts_with(p, "-%}")) {
      body = skip_spaces(p + 3);
      return true;
    }
    if (starts_with(p, "%}")) {
      body = p + 2;
      return true;
    }
    return false;
  }

  size_t lex_raw(size_t body) {
    for (size_t i = body; i + 1 < src_.size(); ++i) {
      if (src_[i] != '{' || src_[i + 1] != '%') continue;
      size_t p = i + 2;
      char sign = 0;
      if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) sign = src_[p++];
      p = skip_spaces(p);
      if (!starts_with(p, "endraw")) continue;
      p = skip_spaces(p + 6);
      size_t end;
      if (starts_with(p, "+%}")) {
        end = p + 3;
      } else if (starts_with(p, "-%}")) {
        end = skip_spaces(p + 3);
      } else if (starts_with(p, "%}")) {
        end = p + 2;
        if (opt_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
      } else {
        continue;
      }
      std::string text = src_.substr(body, i - body);
      strip_before_tag(text, sign, true);
      emit_data(std::move(text), body);
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
    error(body, "missing end of raw directive ({% endraw %})");
  }

  size_t skip_comment(size_t from, size_t tag_start) {
    for (size_t p = from; p < src_.size(); ++p) {
      size_t end = 0;
      if (starts_with(p, "+#}")) {
        end = p + 3;
      } else if (starts_with(p, "-#}")) {
        end = skip_spaces(p + 3);
      } else if (starts_with(p, "#}")) {
        end = p + 2;
        if (opt_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
      } else {
        continue;
      }
      line_starting_ = src_[end - 1] == '\n';
      return end;
    }
    error(tag_start, "missing end of comment tag ('#}')");
  }

  // The end of a `{% %}` / `{{ }}` tag at `p`, or 0 when there is none there.
  size_t match_tag_end(char kind, size_t p) const {
    if (kind == '%') {
      if (starts_with(p, "+%}")) return p + 3;
      if (starts_with(p, "-%}")) return skip_spaces(p + 3);
      if (starts_with(p, "%}")) {
        size_t end = p + 2;
        if (opt_.trim_blocks && end < src_.size() && src_[end] == '\n') ++end;
        return end;
      }
      return 0;
    }
    if (starts_with(p, "-}}")) return skip_spaces(p + 3);
    if (starts_with(p, "}}")) return p + 2;
    return 0;
  }

  size_t lex_tag(char kind, size_t tag_start, size_t p) {
    emit(kind == '%' ? TokenType::kBlockBegin : TokenType::kVarBegin, tag_start);
    std::string balance;  // expected closing brackets
    const size_t n = src_.size();
    while (true) {
      if (p >= n)
        error(tag_start, kind == '%' ? "unclosed '{%' (missing '%}')" : "unclosed '{{' (missing '}}')");
      if (balance.empty()) {
        if (const size_t end = match_tag_end(kind, p)) {
          emit(kind == '%' ? TokenType::kBlockEnd : TokenType::kVarEnd, p);
          line_starting_ = src_[end - 1] == '\n';
          return end;
        }
      }
      if (const size_t sp = space_len(p)) {
        p += sp;
        continue;
      }
      const char c = src_[p];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        p = lex_number(p);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t e = p;
        while (e < n && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
        emit(TokenType::kName, p, src_.substr(p, e - p));
        p = e;
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        p = lex_operator(p, balance);
      }
    }
  }

  static bool is_digit_or_us(char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '_'; }

  // `(\d+_)*\d+` at p: digits with single underscores between them; returns the end or p.
  size_t digit_run(size_t p) const {
    size_t e = p;
    if (e >= src_.size() || !std::isdigit(static_cast<unsigned char>(src_[e]))) return p;
    while (e < src_.size()) {
      if (std::isdigit(static_cast<unsigned char>(src_[e]))) {
        ++e;
      } else if (src_[e] == '_' && e + 1 < src_.size() &&
                 std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
        ++e;
      } else {
        break;
      }
    }
    return e;
  }

  static std::string without_underscores(std::string s) {
    std::string out;
    for (char ch : s)
      if (ch != '_') out.push_back(ch);
    return out;
  }

  size_t lex_number(size_t p) {
    const size_t n = src_.size();
    // Float first, as Jinja tries it first: digits then (.digits)?e[+-]?digits or .digits.
    if (p == 0 || src_[p - 1] != '.') {
      const size_t int_end = digit_run(p);
      size_t e = int_end;
      bool is_float = false;
      if (e < n && src_[e] == '.' && digit_run(e + 1) > e + 1) {
        e = digit_run(e + 1);
        is_float = true;
      }
      if (e < n && (src_[e] == 'e' || src_[e] == 'E')) {
        size_t q = e + 1;
        if (q < n && (src_[q] == '+' || src_[q] == '-')) ++q;
        if (digit_run(q) > q) {
          e = digit_run(q);
          is_float = true;
        }
      }
      if (is_float) {
        Token t;
        t.type = TokenType::kFloat;
        t.value = src_.substr(p, e - p);
        t.float_value = std::strtod(without_underscores(t.value).c_str(), nullptr);
        t.pos = pos_at(p);
        tokens_.push_back(std::move(t));
        return e;
      }
    }
    // Integers: 0b/0o/0x prefixes, [1-9](_?\d)*, 0(_?0)*.
    int base = 10;
    size_t start = p, e = p;
    if (src_[p] == '0' && p + 1 < n && std::strchr("bBoOxX", src_[p + 1]) && src_[p + 1] != '\0') {
      const char k = static_cast<char>(std::tolower(static_cast<unsigned char>(src_[p + 1])));
      base = k == 'b' ? 2 : k == 'o' ? 8 : 16;
      auto ok = [&](char ch) {
        const int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
                      : std::isxdigit(static_cast<unsigned char>(ch)) ? std::tolower(ch) - 'a' + 10
                                                                       : 99;
        return d < base;
      };
      e = p + 2;
      while (e < n && (ok(src_[e]) || (src_[e] == '_' && e + 1 < n && ok(src_[e + 1])))) ++e;
      if (e == p + 2) {
        base = 10;  // just "0" followed by a name
        e = p + 1;
      } else {
        start = p + 2;
      }
    } else if (src_[p] == '0') {
      e = p + 1;
      while (e < n && (src_[e] == '0' || (src_[e] == '_' && e + 1 < n && src_[e + 1] == '0'))) ++e;
    } else {
      e = digit_run(p);
    }
    const std::string digits = without_underscores(src_.substr(start, e - start));
    errno = 0;
    char* endp = nullptr;
    const unsigned long long v = std::strtoull(digits.c_str(), &endp, base);
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX))
      fail<Unsupported>("chat template line {}: integer literal {} is beyond 64 bits", pos_at(p).line,
                        src_.substr(p, e - p));
    Token t;
    t.type = TokenType::kInteger;
    t.value = src_.substr(p, e - p);
    t.int_value = static_cast<int64_t>(v);
    t.pos = pos_at(p);
    tokens_.push_back(std::move(t));
    return e;
  }

  static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    const size_t n = src_.size();
    size_t e = p + 1;
    while (e < n && src_[e] != quote) e += src_[e] == '\\' ? 2 : 1;
    if (e >= n) error(p, "unterminated string literal");
    // Python's "unicode-escape" decoding of the literal's body.
    std::string out;
    for (size_t i = p + 1; i < e; ++i) {
      if (src_[i] != '\\') {
        out.push_back(src_[i]);
        continue;
      }
      const char c = src_[++i];
      auto hex_escape = [&](int digits) {
        if (i + digits >= e) error(i, "truncated \\x/\\u escape in string literal");
        char32_t v = 0;
        for (int k = 1; k <= digits; ++k) {
          const int h = hex_value(src_[i + k]);
          if (h < 0) error(i, "truncated \\x/\\u escape in string literal");
          v = v * 16 + static_cast<char32_t>(h);
        }
        i += digits;
        if (v > 0x10FFFF) error(i, "illegal Unicode character in string literal");
        if (v >= 0xD800 && v <= 0xDFFF) v = 0xFFFD;  // a lone surrogate cannot be UTF-8
        out += utf8_encode(std::u32string(1, v));
      };
      switch (c) {
        case '\n': break;  // line continuation
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x': hex_escape(2); break;
        case 'u': hex_escape(4); break;
        case 'U': hex_escape(8); break;
        case 'N':
          fail<Unsupported>("chat template line {}: \\N{{...}} escapes are not supported", pos_at(i).line);
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int k = 0; k < 2 && i + 1 < e && src_[i + 1] >= '0' && src_[i + 1] <= '7'; ++k)
              v = v * 8 + (src_[++i] - '0');
            out += utf8_encode(std::u32string(1, static_cast<char32_t>(v)));
          } else {
            out.push_back('\\');
            out.push_back(c);
          }
      }
    }
    Token t;
    t.type = TokenType::kString;
    t.value = std::move(out);
    t.pos = pos_at(p);
    tokens_.push_back(std::move(t));
    return e + 1;
  }

  size_t lex_operator(size_t p, std::string& balance) {
    static const char* const kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (const char* op : kTwo) {
      if (starts_with(p, op)) {
        emit(TokenType::kOperator, p, op);
        return p + 2;
      }
    }
    const char c = src_[p];
    if (!std::strchr("+-/*%~[](){}><=.:|,;", c) || c == '\0') {
      if (static_cast<unsigned char>(c) >= 0x80)
        error(p, "unexpected non-ASCII character inside a tag (only ASCII names are supported)");
      error(p, std::string("unexpected character '") + c + "' inside a tag");
    }
    if (c == '(' || c == '[' || c == '{') {
      balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) error(p, std::string("unexpected '") + c + "'");
      if (balance.back() != c)
        error(p, std::string("unexpected '") + c + "', expected '" + balance.back() + "'");
      balance.pop_back();
    }
    emit(TokenType::kOperator, p, std::string(1, c));
    return p + 1;
  }

  LexOptions opt_;
  std::string src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
};

}  // namespace

std::vector<Token> lex(std::string_view source, const LexOptions& options) {
  return Lexer(source, options).run();
}

}  // namespace breadth::jinja
