// Parsers that recover answers from what models actually write for the answer-set prompts.
//
// Both parsers scan the text once, by index, and never throw on content: every failure becomes a
// `failure` string and every repair a note.
#include <algorithm>
#include <cctype>
#include <string>

#include "breadth/answer_set.hpp"
#include "core/utf8.hpp"

namespace breadth {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

void note(ParsedAnswers& out, std::string n) {
  if (std::find(out.notes.begin(), out.notes.end(), n) == out.notes.end()) out.notes.push_back(std::move(n));
}

// Removes <think>...</think> sections and code-fence lines (``` with an optional language tag).
std::string clean(std::string_view text, ParsedAnswers& out) {
  std::string t(text);
  for (;;) {
    auto a = t.find("<think>");
    if (a == std::string::npos) break;
    auto b = t.find("</think>", a);
    if (b == std::string::npos) break;
    t.erase(a, b + 8 - a);
    note(out, "reasoning block removed");
  }
  std::string r;
  r.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    size_t e = t.find('\n', i);
    if (e == std::string::npos) e = t.size();
    std::string_view line(t.data() + i, e - i);
    if (starts_with(trim(line), "```")) {
      note(out, "code fence removed");
    } else {
      r.append(line);
      if (e < t.size()) r.push_back('\n');
    }
    i = e + 1;
  }
  return r;
}

bool hex4(std::string_view t, size_t i, uint32_t& v) {
  if (i + 4 > t.size()) return false;
  v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = t[k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
    else return false;
  }
  return true;
}

// Decodes the JSON escape at t[i] == '\\' into `s`; returns the index after it.
size_t decode_escape(std::string_view t, size_t i, std::string& s) {
  if (i + 1 >= t.size()) return t.size();
  char c = t[i + 1];
  switch (c) {
    case 'n': s.push_back('\n'); return i + 2;
    case 't': s.push_back('\t'); return i + 2;
    case 'r': s.push_back('\r'); return i + 2;
    case 'b': s.push_back('\b'); return i + 2;
    case 'f': s.push_back('\f'); return i + 2;
    case 'u': {
      uint32_t cp;
      if (!hex4(t, i + 2, cp)) { s.push_back('u'); return i + 2; }
      size_t next = i + 6;
      if (cp >= 0xD800 && cp < 0xDC00) {
        uint32_t lo;
        if (next + 1 < t.size() && t[next] == '\\' && t[next + 1] == 'u' && hex4(t, next + 2, lo) &&
            lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          next += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp < 0xE000) {
        cp = 0xFFFD;
      }
      tok::append_cp(s, static_cast<char32_t>(cp));
      return next;
    }
    default: s.push_back(c); return i + 2;  // \" \\ \/ and unknown escapes keep the character
  }
}

// Typographic double quotes (U+201C/U+201D) in UTF-8.
constexpr std::string_view kLeftQuote = "\xE2\x80\x9C", kRightQuote = "\xE2\x80\x9D";

std::string strip_item(std::string s) {
  s = trim(s);
  while (!s.empty() && (starts_with(s, "- ") || starts_with(s, "* "))) s = trim(s.substr(2));
  for (int pass = 0; pass < 2; ++pass) {
    if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\'') ||
                          (s.front() == '`' && s.back() == '`')))
      s = trim(s.substr(1, s.size() - 2));
    if (s.size() >= 6 && starts_with(s, kLeftQuote) && s.compare(s.size() - 3, 3, kRightQuote) == 0)
      s = trim(s.substr(3, s.size() - 6));
    if (s.size() >= 4 && starts_with(s, "**") && s.compare(s.size() - 2, 2, "**") == 0)
      s = trim(s.substr(2, s.size() - 4));
    if (s.size() > 1 && s.back() == '.' && s[s.size() - 2] != '.') s = trim(s.substr(0, s.size() - 1));
  }
  return s;
}

bool is_ellipsis(const std::string& s) {
  return s == "..." || s == "\xE2\x80\xA6" || s == "etc" || s == "etc." || s == "....";
}

// A template placeholder copied from the prompt: day_1, answer_2, ...
bool is_placeholder(const std::string& s) {
  auto u = s.rfind('_');
  if (u == std::string::npos || u == 0 || u + 1 >= s.size()) return false;
  for (size_t i = 0; i < u; ++i)
    if (!std::isalpha(static_cast<unsigned char>(s[i]))) return false;
  for (size_t i = u + 1; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

void keep_item(std::string raw, ParsedAnswers& out) {
  auto s = strip_item(std::move(raw));
  if (s.empty()) return;
  if (is_ellipsis(s)) { note(out, "ellipsis skipped"); return; }
  if (is_placeholder(s)) { note(out, "template placeholder skipped"); return; }
  out.answers.push_back(std::move(s));
}

int word_count(std::string_view s) {
  int n = 0;
  bool in = false;
  for (char c : s) {
    if (is_space(c)) in = false;
    else if (!in) { in = true; ++n; }
  }
  return n;
}

// The body of a list item: "- x", "* x", "+ x", "• x", "1. x", "12) x" (at most three digits).
// Returns false for any other line; `indent` is the marker's column (tabs count 4).
bool list_item(std::string_view line, std::string& body, size_t& indent) {
  size_t i = 0;
  indent = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) indent += line[i++] == '\t' ? 4 : 1;
  std::string_view rest = line.substr(i);
  size_t skip = 0;
  if (starts_with(rest, "- ") || starts_with(rest, "* ") || starts_with(rest, "+ ")) {
    skip = 2;
  } else if (starts_with(rest, "\xE2\x80\xA2")) {  // •
    skip = 3;
  } else {
    size_t d = 0;
    while (d < rest.size() && d < 3 && std::isdigit(static_cast<unsigned char>(rest[d]))) ++d;
    if (d > 0 && d + 1 < rest.size() && (rest[d] == '.' || rest[d] == ')') && (rest[d + 1] == ' ' || rest[d + 1] == '\t'))
      skip = d + 2;
  }
  if (skip == 0) return false;
  body = trim(rest.substr(skip));
  return !body.empty();
}

// The closing match of an opening span at s[0..open) (a quote, `**`, `*` or `_`), or npos. A closing
// single quote or underscore must not be followed by a letter or digit (apostrophes, snake_case).
size_t span_end(std::string_view s, std::string_view open, std::string_view close) {
  for (size_t k = s.find(close, open.size()); k != std::string_view::npos; k = s.find(close, k + 1)) {
    if (k == open.size()) continue;  // an empty span is not a span
    size_t after = k + close.size();
    if ((close == "'" || close == "_" || close == "*") && after < s.size() &&
        std::isalnum(static_cast<unsigned char>(s[after])))
      continue;
    if (close == "*" && after < s.size() && s[after] == '*') { ++k; continue; }
    return k;
  }
  return std::string_view::npos;
}

// One answer out of a list item's body: a leading quoted/bold/italic span, else the text before the
// first commentary separator.
std::string list_answer(std::string body, ParsedAnswers& out) {
  struct Span {
    std::string_view open, close;
  };
  static const Span spans[] = {{"**", "**"}, {"__", "__"}, {"\"", "\""}, {kLeftQuote, kRightQuote},
                               {"'", "'"},   {"`", "`"},   {"*", "*"},   {"_", "_"}};
  for (const auto& sp : spans) {
    if (!starts_with(body, sp.open)) continue;
    size_t k = span_end(body, sp.open, sp.close);
    if (k == std::string_view::npos) continue;
    std::string inner = trim(std::string_view(body).substr(sp.open.size(), k - sp.open.size()));
    if (trim(std::string_view(body).substr(k + sp.close.size())).size() > 0) note(out, "list item commentary dropped");
    // "**Apple:** a red fruit" keeps "Apple"; the inner text may itself be quoted ("**\"Apple\"**").
    while (!inner.empty() && (inner.back() == ':' || inner.back() == ',')) inner = trim(inner.substr(0, inner.size() - 1));
    return strip_item(inner);
  }
  // Unquoted: the answer ends at a separator that introduces commentary.
  size_t cut = body.size();
  for (std::string_view sep : {" - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", ": "}) {
    size_t k = body.find(sep);
    if (k != std::string::npos && k > 0) cut = std::min(cut, k);
  }
  if (cut < body.size()) note(out, "list item commentary dropped");
  std::string s = trim(std::string_view(body).substr(0, cut));
  // A trailing parenthetical after the answer: "Apple (Malus domestica)".
  if (s.size() > 2 && s.back() == ')') {
    size_t o = s.rfind(" (");
    if (o != std::string::npos && o > 0) {
      s = trim(s.substr(0, o));
      note(out, "list item commentary dropped");
    }
  }
  return strip_item(s);
}

}  // namespace

const char* answer_parser_name(AnswerParser p) {
  switch (p) {
    case AnswerParser::kNone: return "none";
    case AnswerParser::kJson: return "json";
    case AnswerParser::kBraces: return "braces";
    case AnswerParser::kList: return "list";
    case AnswerParser::kLine: return "line";
  }
  return "none";
}

ParsedAnswers parse_list_answers(std::string_view text) {
  ParsedAnswers out;
  const std::string t = clean(text, out);
  struct Item {
    std::string body;
    size_t indent;
  };
  std::vector<Item> items;
  size_t top = std::string::npos;
  for (size_t a = 0; a <= t.size();) {
    size_t e = t.find('\n', a);
    if (e == std::string::npos) e = t.size();
    std::string body;
    size_t indent = 0;
    if (list_item(std::string_view(t).substr(a, e - a), body, indent)) {
      items.push_back({std::move(body), indent});
      top = std::min(top, indent);
    }
    a = e + 1;
  }
  int headings = 0;
  for (auto& it : items) {
    if (it.indent != top) { note(out, "nested list items ignored"); continue; }
    if (it.body.back() == ':') { ++headings; continue; }  // "* Fruits:" introduces a sub-list
    keep_item(list_answer(std::move(it.body), out), out);
  }
  if (!out.answers.empty()) {
    out.parser = AnswerParser::kList;
  } else {
    out.failure = items.empty() ? "no list found" : "the list holds no answer";
  }
  return out;
}

ParsedAnswers parse_fixed_answers(std::string_view text) {
  ParsedAnswers out;
  const std::string t = clean(text, out);
  const size_t n = t.size();
  size_t i = 0;
  bool any_group = false;
  while (i < n) {
    size_t open = t.find('{', i);
    if (open == std::string::npos) break;
    any_group = true;
    int depth = 1;
    bool closed = false;
    char quote = 0;  // the quote an item opened with, if any
    std::string cur;
    size_t j = open + 1;
    for (; j < n; ++j) {
      char c = t[j];
      if (quote) {
        if (c == '\\' && j + 1 < n) {
          char e = t[++j];
          if (e != '"' && e != '\'' && e != '\\') cur.push_back(c);  // \" \' \\ lose the backslash
          cur.push_back(e);
          continue;
        }
        cur.push_back(c);
        if (c == quote) quote = 0;
        if (c == '\n') quote = 0;  // a quote never spans lines in a short answer
        continue;
      }
      if ((c == '"' || c == '\'') && trim(cur).empty()) { quote = c; cur.push_back(c); continue; }
      if (c == '{') { ++depth; keep_item(std::move(cur), out); cur.clear(); continue; }
      if (c == '}') {
        keep_item(std::move(cur), out);
        cur.clear();
        if (--depth == 0) { closed = true; break; }
        continue;
      }
      if (c == ',' || c == ';') { keep_item(std::move(cur), out); cur.clear(); continue; }
      if (c == '\n') {
        // A blank line inside an unclosed group ends it: what follows is commentary.
        if (j + 1 < n && (t[j + 1] == '\n' || (t[j + 1] == '\r' && j + 2 < n && t[j + 2] == '\n'))) {
          keep_item(std::move(cur), out);
          cur.clear();
          note(out, "unclosed brace ended at a blank line");
          closed = true;
          break;
        }
        keep_item(std::move(cur), out);
        cur.clear();
        continue;
      }
      cur.push_back(c);
    }
    if (!closed) {
      if (!trim(cur).empty()) note(out, "unclosed brace at the end: last (possibly truncated) item dropped");
      else note(out, "unclosed brace at the end");
      break;
    }
    i = j + 1;
  }
  if (!any_group) {
    // No braces at all. A bulleted or numbered list of short items ("* Spain\n* Mexico"): every
    // list line must be short, otherwise it is prose with bullets and nothing is taken.
    std::vector<std::string> listed;
    bool prose_list = false;
    for (size_t a = 0; a < t.size();) {
      size_t e = t.find('\n', a);
      if (e == std::string::npos) e = t.size();
      std::string line = trim(std::string_view(t).substr(a, e - a));
      a = e + 1;
      size_t body = 0;
      if (starts_with(line, "- ") || starts_with(line, "* ") || starts_with(line, "\xE2\x80\xA2 ")) {
        body = line[0] == '\xE2' ? 4 : 2;
      } else {
        size_t d = 0;
        while (d < line.size() && d < 3 && std::isdigit(static_cast<unsigned char>(line[d]))) ++d;
        if (d > 0 && d + 1 < line.size() && (line[d] == '.' || line[d] == ')') && line[d + 1] == ' ') body = d + 2;
      }
      if (body == 0) continue;
      auto item = strip_item(line.substr(body));
      if (word_count(item) > 6) prose_list = true;
      if (!item.empty()) listed.push_back(item);
    }
    if (listed.size() >= 2 && !prose_list) {
      note(out, "no braces: the bulleted list was read");
      for (auto& it : listed) keep_item(it, out);
      if (!out.answers.empty()) {
        out.parser = AnswerParser::kList;
        return out;
      }
    }
    // A single short line that reads as a comma-separated list.
    std::string s = trim(t);
    for (char& c : s) if (c == '}') c = ' ';
    if (!s.empty() && s.find('\n') == std::string::npos && s.size() <= 300) {
      auto colon = s.rfind(':');
      if (colon != std::string::npos) s = s.substr(colon + 1);
      std::vector<std::string> items;
      size_t a = 0;
      bool prose = false;
      while (a <= s.size()) {
        size_t b = s.find(',', a);
        if (b == std::string::npos) b = s.size();
        auto item = strip_item(s.substr(a, b - a));
        if (word_count(item) > 6) prose = true;
        if (!item.empty()) items.push_back(item);
        a = b + 1;
      }
      if (!prose && !items.empty()) {
        note(out, "no braces: the line was read as the list");
        for (auto& it : items) keep_item(it, out);
        if (!out.answers.empty()) out.parser = AnswerParser::kLine;
      }
    }
    if (out.answers.empty()) out.failure = "no {...} list found";
    return out;
  }
  if (out.answers.empty()) out.failure = "the {...} lists hold no complete answer";
  else out.parser = AnswerParser::kBraces;
  return out;
}

ParsedAnswers parse_open_answers(std::string_view text) {
  ParsedAnswers out;
  const std::string t = clean(text, out);
  const size_t n = t.size();
  constexpr std::string_view key = "content";
  int keys = 0, truncated = 0, placeholders = 0;
  // answer-ids, for the notes only: they are not trusted.
  std::vector<std::string> ids;
  for (size_t p = t.find("answer-id"); p != std::string::npos; p = t.find("answer-id", p + 1)) {
    size_t q = p + 9;
    while (q < n && (t[q] == '"' || t[q] == '\'' || t[q] == ':' || is_space(t[q]))) ++q;
    size_t r = q;
    while (r < n && std::isdigit(static_cast<unsigned char>(t[r]))) ++r;
    if (r > q) ids.push_back(t.substr(q, r - q));
  }
  auto sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) note(out, "duplicated answer ids");

  size_t i = 0;
  while (i + key.size() <= n) {
    // Case-insensitive search for the key.
    size_t p = std::string::npos;
    for (size_t k = i; k + key.size() <= n; ++k)
      if (iequals(std::string_view(t).substr(k, key.size()), key)) { p = k; break; }
    if (p == std::string::npos) break;
    i = p + key.size();
    // A key, not the word in prose ("**Personalized Content:** ..." in real outputs): either quoted,
    // or bare right after `{`, `,` or the start of a line; then ':'.
    const bool quoted = p > 0 && (t[p - 1] == '"' || t[p - 1] == '\'') && i < n && t[i] == t[p - 1];
    if (!quoted) {
      size_t b = p;
      while (b > 0 && (t[b - 1] == ' ' || t[b - 1] == '\t')) --b;
      if (b > 0 && t[b - 1] != '{' && t[b - 1] != ',' && t[b - 1] != '\n') continue;
    }
    size_t q = i + (quoted ? 1 : 0);
    while (q < n && (t[q] == ' ' || t[q] == '\t')) ++q;
    if (q >= n || t[q] != ':') continue;
    ++q;
    ++keys;
    while (q < n && is_space(t[q])) ++q;
    if (q >= n) { ++truncated; break; }
    std::string value;
    bool complete = false;
    if (t[q] == '"' || t[q] == '\'' || starts_with(std::string_view(t).substr(q), kLeftQuote)) {
      const bool typographic = t[q] != '"' && t[q] != '\'';
      const char quote = typographic ? 0 : t[q];
      size_t k = q + (typographic ? kLeftQuote.size() : 1);
      while (k < n) {
        char c = t[k];
        if (c == '\\' && quote) { k = decode_escape(t, k, value); continue; }
        bool closing = typographic ? starts_with(std::string_view(t).substr(k), kRightQuote) : c == quote;
        if (closing) {
          size_t after = k + (typographic ? kRightQuote.size() : 1);
          size_t a = after;
          while (a < n && (t[a] == ' ' || t[a] == '\t')) ++a;
          if (a >= n || t[a] == ',' || t[a] == '}' || t[a] == ']' || t[a] == '\n' || t[a] == '\r') {
            complete = true;
            k = after;
            break;
          }
          note(out, "unescaped quote kept as text");
          value.append(t, k, after - k);
          k = after;
          continue;
        }
        if (c == '\n') {
          // A raw newline that is followed by the next object means the closing quote is missing.
          size_t a = k + 1;
          while (a < n && is_space(t[a])) ++a;
          std::string_view rest = std::string_view(t).substr(a);
          if (a >= n || starts_with(rest, "}") || starts_with(rest, "{") || starts_with(rest, "\"answer-id") ||
              starts_with(rest, "\"content")) {
            if (a < n) {
              note(out, "missing closing quote repaired at a line end");
              complete = true;
            }
            k = a;
            break;
          }
        }
        value.push_back(c);
        ++k;
      }
      i = std::max(i, k);
    } else {
      // Unquoted value: up to the next comma, brace or line end.
      size_t k = q;
      while (k < n && t[k] != ',' && t[k] != '}' && t[k] != '\n') ++k;
      value = t.substr(q, k - q);
      complete = k < n;
      if (complete) note(out, "unquoted value");
      i = std::max(i, k);
    }
    if (!complete) {
      ++truncated;
      note(out, "truncated last answer dropped");
      continue;
    }
    auto s = trim(value);
    if (s.empty()) continue;
    if (iequals(s, "Your answer here")) {
      ++placeholders;
      note(out, "template placeholder skipped");
      continue;
    }
    out.answers.push_back(std::move(s));
  }
  if (!out.answers.empty()) {
    out.parser = AnswerParser::kJson;
  } else if (keys == 0) {
    // The requested JSON is absent altogether: real models often answer with a plain list instead.
    auto listed = parse_list_answers(text);
    if (listed.ok()) {
      for (auto& n : out.notes) note(listed, n);
      note(listed, "no \"content\" field: the list was read");
      return listed;
    }
    out.failure = listed.failure == "no list found" ? "no \"content\" field found"
                                                    : "no \"content\" field found; " + listed.failure;
  } else {
    out.failure = "no complete \"content\" value (" + std::to_string(truncated) + " truncated, " +
                  std::to_string(placeholders) + " placeholders)";
  }
  return out;
}

ParsedAnswers parse_answers(std::string_view text, QuestionKind kind) {
  return kind == QuestionKind::kFixed ? parse_fixed_answers(text) : parse_open_answers(text);
}

}  // namespace breadth
