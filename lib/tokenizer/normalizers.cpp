#include "tokenizer/normalizers.hpp"

#include <nlohmann/json.hpp>

#include "core/check.hpp"
#include "tokenizer/base64.hpp"
#include "tokenizer/precompiled.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/unicode.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormForm f) : form_(f) {}
  void normalize(std::string& s) const override {
    if (!is_normalized(s, form_)) s = tok::normalize(s, form_);
  }
 private:
  NormForm form_;
};

class Lowercase final : public Normalizer {
 public:
  void normalize(std::string& s) const override { s = to_lower(s); }
};

// Keeps the characters for which `keep` holds, after mapping each through `map` (a code point).
template <typename Keep, typename Map>
std::string filter_map(std::string_view s, Keep keep, Map map) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const char32_t c = next_cp(s, i);
    if (keep(c)) append_cp(out, map(c));
  }
  return out;
}

class StripAccents final : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    s = filter_map(s, [](char32_t c) { return !is_mark_nonspacing(c); }, [](char32_t c) { return c; });
  }
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::string& s) const override {
    size_t b = 0, e = s.size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!is_whitespace(next_cp(s, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t k = e - 1;
        while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        size_t i = k;
        if (!is_whitespace(next_cp(s, i))) break;
        e = k;
      }
    }
    s = s.substr(b, e - b);
  }
 private:
  bool left_, right_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prepend_(std::move(p)) {}
  void normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, prepend_);
  }
 private:
  std::string prepend_;
};

class Replace final : public Normalizer {
 public:
  Replace(std::string literal, std::unique_ptr<Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void normalize(std::string& s) const override {
    const auto matches = re_ ? re_->find_all(s) : find_literal(s, literal_);
    if (matches.empty()) return;
    std::string out;
    out.reserve(s.size());
    size_t prev = 0;
    for (const auto& [b, e] : matches) {
      out.append(s, prev, b - prev);
      out += content_;
      prev = e;
    }
    out.append(s, prev, std::string::npos);
    s = std::move(out);
  }
 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  std::string content_;
};

class Nmt final : public Normalizer {
 public:
  void normalize(std::string& s) const override {
    s = filter_map(
        s,
        [](char32_t c) {
          return !((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
                   c == 0x8F || c == 0x9F);
        },
        [](char32_t c) -> char32_t {
          switch (c) {
            case 0x09: case 0x0A: case 0x0C: case 0x0D: case 0x1680: case 0x2028: case 0x2029:
            case 0x2581: case 0xFEFF: case 0xFFFD:
              return ' ';
            default:
              return (c >= 0x200B && c <= 0x200F) ? ' ' : c;
          }
        });
  }
};

class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean, bool chinese, bool strip, bool lower)
      : clean_(clean), chinese_(chinese), strip_(strip), lower_(lower) {}
  void normalize(std::string& s) const override {
    if (clean_) {
      s = filter_map(
          s,
          [](char32_t c) {
            if (c == '\t' || c == '\n' || c == '\r') return true;
            return !(c == 0 || c == 0xFFFD || is_other(c));
          },
          [](char32_t c) -> char32_t {
            return (c == '\t' || c == '\n' || c == '\r' || is_whitespace(c)) ? ' ' : c;
          });
    }
    if (chinese_) {
      std::string out;
      out.reserve(s.size());
      for (size_t i = 0; i < s.size();) {
        const size_t b = i;
        const char32_t c = next_cp(s, i);
        if (is_chinese_char(c)) {
          out.push_back(' ');
          out.append(s, b, i - b);
          out.push_back(' ');
        } else {
          out.append(s, b, i - b);
        }
      }
      s = std::move(out);
    }
    if (strip_) {
      s = normalize_nfd_drop_marks(s);
    }
    if (lower_) s = to_lower(s);
  }

 private:
  static std::string normalize_nfd_drop_marks(const std::string& s) {
    const std::string d = tok::normalize(s, NormForm::kNFD);
    return filter_map(d, [](char32_t c) { return !is_mark_nonspacing(c); }, [](char32_t c) { return c; });
  }
  bool clean_, chinese_, strip_, lower_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> n) : parts_(std::move(n)) {}
  void normalize(std::string& s) const override {
    for (const auto& p : parts_) p->normalize(s);
  }
 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

class Precompiled final : public Normalizer {
 public:
  Precompiled(std::string_view blob, std::string_view where) : map_(blob, where) {}
  void normalize(std::string& s) const override { s = map_.normalize(s); }

 private:
  PrecompiledCharsmap map_;
};

bool opt_bool(const nlohmann::json& j, const char* key, bool dflt) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? dflt : it->get<bool>();
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  BREADTH_CHECK_FORMAT(j.is_object() && j.contains("type"), "{}: a normalizer must be an object with a 'type'",
                       where);
  const std::string type = j.at("type").get<std::string>();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormForm::kNFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormForm::kNFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormForm::kNFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormForm::kNFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Nmt") return std::make_unique<Nmt>();
  if (type == "Strip")
    return std::make_unique<Strip>(opt_bool(j, "strip_left", true), opt_bool(j, "strip_right", true));
  if (type == "Prepend") return std::make_unique<Prepend>(j.at("prepend").get<std::string>());
  if (type == "Replace") {
    const auto& p = j.at("pattern");
    std::string content = j.at("content").get<std::string>();
    if (p.contains("String")) return std::make_unique<Replace>(p.at("String").get<std::string>(), nullptr, content);
    if (p.contains("Regex"))
      return std::make_unique<Replace>("", std::make_unique<Regex>(p.at("Regex").get<std::string>(), where),
                                       content);
    fail<FormatError>("{}: Replace normalizer pattern needs 'String' or 'Regex'", where);
  }
  if (type == "BertNormalizer") {
    const bool lower = opt_bool(j, "lowercase", true);
    return std::make_unique<BertNormalizer>(opt_bool(j, "clean_text", true),
                                            opt_bool(j, "handle_chinese_chars", true),
                                            opt_bool(j, "strip_accents", lower), lower);
  }
  if (type == "Precompiled") {
    const auto it = j.find("precompiled_charsmap");
    BREADTH_CHECK_FORMAT(it != j.end() && it->is_string(), "{}: Precompiled normalizer without a precompiled_charsmap string",
                         where);
    const auto blob = base64_decode(it->get<std::string>());
    BREADTH_CHECK_FORMAT(blob.has_value(), "{}: precompiled_charsmap is not valid base64", where);
    return std::make_unique<Precompiled>(*blob, where);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (const auto& n : j.at("normalizers")) {
      auto p = make_normalizer(n, where);
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<SequenceNormalizer>(std::move(parts));
  }
  fail<Unsupported>("{}: normalizer type '{}' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, "
                    "StripAccents, Strip, Prepend, Replace, Nmt, BertNormalizer, Precompiled, Sequence)",
                    where, type);
}

}  // namespace breadth::tok
