#include "tokenizer/pre_tokenizers.hpp"

#include <nlohmann/json.hpp>

#include "core/check.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode.hpp"

namespace breadth::tok {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string bytes_to_unicode_string(std::string_view s) {
  const auto& table = byte_to_unicode();
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char b : s) out += table[b];
  return out;
}

namespace {

// Applies `fn(piece, out)` to every piece that is not an added token.
template <typename Fn>
void for_each_split(std::vector<Piece>& pieces, Fn fn) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (auto& p : pieces) {
    if (p.id >= 0) {
      out.push_back(std::move(p));
      continue;
    }
    fn(p, out);
  }
  pieces = std::move(out);
}

SplitBehavior parse_behavior(const nlohmann::json& j, std::string_view where) {
  const std::string b = j.get<std::string>();
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  fail<FormatError>("{}: unknown split behavior '{}'", where, b);
}

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex, std::string_view where)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) re_ = std::make_unique<Regex>(kGpt2Pattern, where);
  }
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_split(pieces, [&](Piece& p, std::vector<Piece>& out) {
      if (add_prefix_space_ && !p.text.empty() && p.text[0] != ' ') p.text.insert(0, " ");
      const size_t first = out.size();
      if (re_) split_piece(p, spans_from_matches(re_->find_all(p.text), p.text.size(), false),
                           SplitBehavior::kIsolated, out);
      else if (!p.text.empty()) out.push_back(std::move(p));
      for (size_t k = first; k < out.size(); ++k) out[k].text = bytes_to_unicode_string(out[k].text);
    });
  }
 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> re_;
};

class Split final : public PreTokenizer {
 public:
  Split(std::string literal, std::unique_ptr<Regex> re, SplitBehavior b, bool invert)
      : literal_(std::move(literal)), re_(std::move(re)), behavior_(b), invert_(invert) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_split(pieces, [&](Piece& p, std::vector<Piece>& out) {
      const auto m = re_ ? re_->find_all(p.text) : find_literal(p.text, literal_);
      split_piece(p, spans_from_matches(m, p.text.size(), invert_), behavior_, out);
    });
  }
 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  SplitBehavior behavior_;
  bool invert_;
};

enum class Prepend { kAlways, kFirst, kNever };

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(char32_t replacement, Prepend scheme, bool split)
      : rep_(cp_to_utf8(replacement)), rep_cp_(replacement), scheme_(scheme), split_(split) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_split(pieces, [&](Piece& p, std::vector<Piece>& out) {
      std::string s;
      s.reserve(p.text.size() + 8);
      for (char c : p.text) {
        if (c == ' ') s += rep_;
        else s.push_back(c);
      }
      const bool starts = s.compare(0, rep_.size(), rep_) == 0;
      if (!starts && (scheme_ == Prepend::kAlways || (scheme_ == Prepend::kFirst && p.at_start)))
        s.insert(0, rep_);
      p.text = std::move(s);
      if (split_) {
        const char32_t r = rep_cp_;
        split_piece(p, spans_from_chars(p.text, [r](char32_t c) { return c == r; }),
                    SplitBehavior::kMergedWithNext, out);
      } else if (!p.text.empty()) {
        out.push_back(std::move(p));
      }
    });
  }
 private:
  std::string rep_;
  char32_t rep_cp_;
  Prepend scheme_;
  bool split_;
};

// Splits every piece on characters matching a predicate.
template <typename Pred>
class CharSplit final : public PreTokenizer {
 public:
  CharSplit(Pred pred, SplitBehavior b) : pred_(pred), behavior_(b) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_split(pieces, [&](Piece& p, std::vector<Piece>& out) {
      split_piece(p, spans_from_chars(p.text, pred_), behavior_, out);
    });
  }
 private:
  Pred pred_;
  SplitBehavior behavior_;
};
template <typename Pred>
std::unique_ptr<PreTokenizer> char_split(Pred pred, SplitBehavior b) {
  return std::make_unique<CharSplit<Pred>>(pred, b);
}

bool is_bert_punc(char32_t c) {
  return (c < 0x80 && ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                       (c >= 123 && c <= 126))) ||
         is_punctuation(c);
}

class Whitespace final : public PreTokenizer {
 public:
  explicit Whitespace(std::string_view where) : re_(R"(\w+|[^\w\s]+)", where) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for_each_split(pieces, [&](Piece& p, std::vector<Piece>& out) {
      split_piece(p, spans_from_matches(re_.find_all(p.text), p.text.size(), true), SplitBehavior::kRemoved,
                  out);
    });
  }
 private:
  Regex re_;
};

class SequencePre final : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> p) : parts_(std::move(p)) {}
  void pre_tokenize(std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->pre_tokenize(pieces);
  }
 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

bool opt_bool(const nlohmann::json& j, const char* key, bool dflt) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? dflt : it->get<bool>();
}

char32_t single_char(const std::string& s, std::string_view what, std::string_view where) {
  BREADTH_CHECK_FORMAT(!s.empty() && is_valid_utf8(s), "{}: {} must be one character", where, what);
  size_t i = 0;
  const char32_t c = next_cp(s, i);
  BREADTH_CHECK_FORMAT(i == s.size(), "{}: {} must be one character, got '{}'", where, what, s);
  return c;
}

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  BREADTH_CHECK_FORMAT(j.is_object() && j.contains("type"),
                       "{}: a pre_tokenizer must be an object with a 'type'", where);
  const std::string type = j.at("type").get<std::string>();
  if (type == "ByteLevel")
    return std::make_unique<ByteLevel>(opt_bool(j, "add_prefix_space", true), opt_bool(j, "use_regex", true),
                                       where);
  if (type == "Split") {
    const auto& p = j.at("pattern");
    const SplitBehavior b = parse_behavior(j.at("behavior"), where);
    const bool invert = opt_bool(j, "invert", false);
    if (p.contains("String")) return std::make_unique<Split>(p.at("String").get<std::string>(), nullptr, b, invert);
    if (p.contains("Regex"))
      return std::make_unique<Split>("", std::make_unique<Regex>(p.at("Regex").get<std::string>(), where), b,
                                     invert);
    fail<FormatError>("{}: Split pattern needs 'String' or 'Regex'", where);
  }
  if (type == "Metaspace") {
    const char32_t rep = single_char(j.value("replacement", std::string("\xE2\x96\x81")), "Metaspace replacement",
                                     where);
    Prepend scheme = Prepend::kAlways;
    if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null()) {
      const std::string s = j.at("prepend_scheme").get<std::string>();
      if (s == "always") scheme = Prepend::kAlways;
      else if (s == "first") scheme = Prepend::kFirst;
      else if (s == "never") scheme = Prepend::kNever;
      else fail<FormatError>("{}: unknown Metaspace prepend_scheme '{}'", where, s);
    } else if (!opt_bool(j, "add_prefix_space", true)) {
      scheme = Prepend::kNever;
    }
    return std::make_unique<Metaspace>(rep, scheme, opt_bool(j, "split", true));
  }
  if (type == "Digits") {
    if (opt_bool(j, "individual_digits", false))
      return char_split([](char32_t c) { return is_numeric(c); }, SplitBehavior::kIsolated);
    return char_split([](char32_t c) { return is_numeric(c); }, SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    const SplitBehavior b = j.contains("behavior") ? parse_behavior(j.at("behavior"), where) : SplitBehavior::kIsolated;
    return char_split(is_bert_punc, b);
  }
  if (type == "WhitespaceSplit") return char_split([](char32_t c) { return is_whitespace(c); }, SplitBehavior::kRemoved);
  if (type == "Whitespace") return std::make_unique<Whitespace>(where);
  if (type == "CharDelimiterSplit") {
    const char32_t d = single_char(j.at("delimiter").get<std::string>(), "CharDelimiterSplit delimiter", where);
    return char_split([d](char32_t c) { return c == d; }, SplitBehavior::kRemoved);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    parts.push_back(char_split([](char32_t c) { return is_whitespace(c); }, SplitBehavior::kRemoved));
    parts.push_back(char_split(is_bert_punc, SplitBehavior::kIsolated));
    return std::make_unique<SequencePre>(std::move(parts));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (const auto& p : j.at("pretokenizers")) {
      auto q = make_pre_tokenizer(p, where);
      if (q) parts.push_back(std::move(q));
    }
    return std::make_unique<SequencePre>(std::move(parts));
  }
  fail<Unsupported>("{}: pre_tokenizer type '{}' is not supported (supported: ByteLevel, Split, Metaspace, "
                    "Digits, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit, "
                    "Sequence)",
                    where, type);
}

}  // namespace breadth::tok
