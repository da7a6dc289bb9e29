// Word tokenizers for the lexical metrics: nltk's wordpunct_tokenize, str.split(), and
// rouge-score's tokenizer.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>

#include "breadth/metrics.hpp"
#include "core/check.hpp"
#include "eval/text.hpp"

namespace breadth {
namespace {

// nltk: WordPunctTokenizer uses r"\w+|[^\w\s]+" on a Python str. Python's \w is "alphanumeric or
// underscore" (letters L*, numbers N*); its \s is str.isspace(), which also holds U+001C..U+001F and
// U+0085 that PCRE2's \s lacks, so both classes are spelled out.
constexpr const char* kWordPunct =
    "[\\p{L}\\p{N}_]+|[^\\p{L}\\p{N}_\\s\\x{1c}-\\x{1f}\\x{85}]+";

struct Regex {
  pcre2_code* code = nullptr;
  explicit Regex(const char* pattern) {
    int err = 0;
    PCRE2_SIZE off = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                         PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, nullptr);
    if (!code) fail<Error>("eval: cannot compile the word tokenizer regex (PCRE2 error {})", err);
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is absent
  }
  ~Regex() { pcre2_code_free(code); }
};

const Regex& word_punct_regex() {
  static const Regex re(kWordPunct);
  return re;
}

std::vector<std::string> regex_findall(const Regex& re, std::string_view text) {
  std::vector<std::string> out;
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(re.code, nullptr), &pcre2_match_data_free);
  PCRE2_SIZE start = 0;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  while (start < text.size()) {
    int rc = pcre2_match(re.code, subject, text.size(), start, 0, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail<Error>("eval: word tokenizer failed (PCRE2 error {})", rc);
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    if (ov[1] <= ov[0]) break;  // the pattern cannot match empty; guard anyway
    out.emplace_back(text.substr(ov[0], ov[1] - ov[0]));
    start = ov[1];
  }
  return out;
}

}  // namespace

std::vector<std::string> word_tokenize(std::string_view text, WordTokenizer tokenizer) {
  switch (tokenizer) {
    case WordTokenizer::kWordPunct:
      return regex_findall(word_punct_regex(), text);
    case WordTokenizer::kWhitespace:
      return eval::python_split(text);
  }
  fail("word_tokenize: unknown tokenizer {}", static_cast<int>(tokenizer));
}

std::vector<std::string> rouge_tokenize(std::string_view text) {
  // rouge-score: text.lower(), then every run of [^a-z0-9] becomes a separator. Only two non-ASCII
  // characters lowercase to ASCII under Python: U+212A KELVIN SIGN -> "k" and U+0130 -> "i" + U+0307.
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp = eval::next_code_point(text, pos);
    if (cp >= 'A' && cp <= 'Z') cur.push_back(static_cast<char>(cp + 32));
    else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) cur.push_back(static_cast<char>(cp));
    else if (cp == 0x212A) cur.push_back('k');
    else if (cp == 0x130) {
      cur.push_back('i');
      flush();
    } else {
      flush();
    }
  }
  flush();
  return out;
}

}  // namespace breadth
