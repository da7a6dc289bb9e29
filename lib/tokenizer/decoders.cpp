#include "tokenizer/decoders.hpp"

#include <nlohmann/json.hpp>

#include "core/check.hpp"
#include "tokenizer/regex.hpp"

namespace breadth::tok {

namespace {

// Bytes of a byte-level token: each character mapped back to its byte; a token with a character
// outside the mapping (an added token such as "a b") contributes its UTF-8 as it is.
void byte_level_bytes(const std::string& t, std::string& out) {
  if (!is_valid_utf8(t)) {  // raw bytes from an earlier stage of a streaming decode
    out += t;
    return;
  }
  const size_t mark = out.size();
  for (size_t i = 0; i < t.size();) {
    const auto b0 = static_cast<unsigned char>(t[i]);
    int b;
    if (b0 < 0x80) {
      b = byte_of_unicode(b0);
      ++i;
    } else {
      b = byte_of_unicode(next_cp(t, i));
    }
    if (b < 0) {
      out.resize(mark);
      out += t;
      return;
    }
    out.push_back(static_cast<char>(b));
  }
}

class ByteLevelDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    std::string bytes;
    for (const auto& t : tokens) byte_level_bytes(t, bytes);
    tokens.assign(1, raw ? std::move(bytes) : sanitize_utf8(bytes));
  }
  void mid_token(std::string& t) const override {
    std::string b;
    byte_level_bytes(t, b);
    t = std::move(b);
  }
};

std::string replace_all(const std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  std::string out;
  size_t prev = 0;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, prev)) {
    out.append(s, prev, p - prev);
    out += to;
    prev = p + from.size();
  }
  out.append(s, prev, std::string::npos);
  return out;
}

class MetaspaceDec final : public Decoder {
 public:
  MetaspaceDec(std::string rep, bool prepend) : rep_(std::move(rep)), prepend_(prepend) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = replace_all(tokens[i], rep_, i == 0 && prepend_ ? "" : " ");
  }
  void mid_token(std::string& t) const override { t = replace_all(t, rep_, " "); }
 private:
  std::string rep_;
  bool prepend_;
};

int parse_byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (int k = 3; k < 5; ++k) {
    const char c = t[k];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

class ByteFallbackDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string pending;
    auto flush = [&] {
      if (pending.empty()) return;
      if (raw || is_valid_utf8(pending)) {
        out.push_back(pending);
      } else {
        // One replacement character per byte, as the reference does.
        for (size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (auto& t : tokens) {
      const int b = parse_byte_token(t);
      if (b >= 0) {
        pending.push_back(static_cast<char>(b));
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
  }
  void mid_token(std::string& t) const override {
    const int b = parse_byte_token(t);
    if (b >= 0) t.assign(1, static_cast<char>(b));
  }
};

class FuseDec final : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
  void mid_token(std::string&) const override {}
};

// Removes up to `start` leading and `stop` trailing copies of one character. Works on the encoded
// character, so raw (not yet valid) bytes in a streaming decode are safe to pass through.
class StripDec final : public Decoder {
 public:
  StripDec(std::string c, size_t start, size_t stop) : c_(std::move(c)), start_(start), stop_(stop) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (auto& t : tokens) {
      size_t b = 0, e = t.size();
      for (size_t k = 0; k < start_ && t.compare(b, c_.size(), c_) == 0 && b + c_.size() <= e; ++k) b += c_.size();
      for (size_t k = 0; k < stop_ && e >= b + c_.size() && t.compare(e - c_.size(), c_.size(), c_) == 0; ++k)
        e -= c_.size();
      t = t.substr(b, e - b);
    }
  }
  void mid_token(std::string&) const override {}
 private:
  std::string c_;
  size_t start_, stop_;
};

// Applies `fn` to each maximal valid UTF-8 stretch of `s`, copying invalid bytes as they are (a regex
// must only ever see valid UTF-8).
template <typename Fn>
std::string on_valid_runs(const std::string& s, Fn fn) {
  if (is_valid_utf8(s)) return fn(s);
  std::string out, run;
  for (size_t i = 0; i < s.size();) {
    const size_t n = static_cast<unsigned char>(s[i]) < 0x80 ? 1 : valid_seq_len(s, i);
    if (n == 0) {
      out += fn(run);
      run.clear();
      out.push_back(s[i++]);
      continue;
    }
    run.append(s, i, n);
    i += n;
  }
  return out + fn(run);
}

class ReplaceDec final : public Decoder {
 public:
  ReplaceDec(std::string literal, std::unique_ptr<Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (auto& t : tokens) mid_token(t);
  }
  void mid_token(std::string& t) const override {
    if (!re_) {
      t = replace_all(t, literal_, content_);
      return;
    }
    t = on_valid_runs(t, [&](const std::string& run) {
      const auto m = re_->find_all(run);
      std::string out;
      size_t prev = 0;
      for (const auto& [b, e] : m) {
        out.append(run, prev, b - prev);
        out += content_;
        prev = e;
      }
      out.append(run, prev, std::string::npos);
      return out;
    });
  }
 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  std::string content_;
};

std::string wordpiece_cleanup(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) s = replace_all(s, from, to);
  return s;
}

class WordPieceDec final : public Decoder {
 public:
  WordPieceDec(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i != 0) join(tokens[i]);
      if (cleanup_) tokens[i] = wordpiece_cleanup(std::move(tokens[i]));
    }
  }
  void mid_token(std::string& t) const override {
    join(t);
    if (cleanup_) t = wordpiece_cleanup(std::move(t));
  }
 private:
  void join(std::string& t) const {
    // Replaces the first occurrence of the prefix when the token starts with it.
    if (t.compare(0, prefix_.size(), prefix_) == 0) t.erase(0, prefix_.size());
    else t.insert(0, " ");
  }
  std::string prefix_;
  bool cleanup_;
};

class BpeDec final : public Decoder {
 public:
  explicit BpeDec(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode_chain(std::vector<std::string>& tokens, bool) const override {
    for (size_t i = 0; i < tokens.size(); ++i)
      tokens[i] = replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }
  void mid_token(std::string& t) const override { t = replace_all(t, suffix_, " "); }
 private:
  std::string suffix_;
};

class SequenceDec final : public Decoder {
 public:
  explicit SequenceDec(std::vector<std::unique_ptr<Decoder>> d) : parts_(std::move(d)) {}
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    for (const auto& d : parts_) d->decode_chain(tokens, raw);
  }
  void mid_token(std::string& t) const override {
    for (const auto& d : parts_) d->mid_token(t);
  }
 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

bool opt_bool(const nlohmann::json& j, const char* key, bool dflt) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? dflt : it->get<bool>();
}

// --------------------------------------------------------------------------------- post-processors

class TemplateProc final : public PostProcessor {
 public:
  // Items: a list of id lists, with an empty optional marking where the sequence goes.
  explicit TemplateProc(std::vector<std::optional<std::vector<int32_t>>> items) : items_(std::move(items)) {}
  void process(std::vector<int32_t>& ids, bool add_special) const override {
    if (!add_special) return;
    std::vector<int32_t> out;
    out.reserve(ids.size() + 4);
    for (const auto& it : items_) {
      if (it) out.insert(out.end(), it->begin(), it->end());
      else out.insert(out.end(), ids.begin(), ids.end());
    }
    ids = std::move(out);
  }
 private:
  std::vector<std::optional<std::vector<int32_t>>> items_;
};

class SequenceProc final : public PostProcessor {
 public:
  explicit SequenceProc(std::vector<std::unique_ptr<PostProcessor>> p) : parts_(std::move(p)) {}
  void process(std::vector<int32_t>& ids, bool add_special) const override {
    for (const auto& p : parts_) p->process(ids, add_special);
  }
 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

class NoopProc final : public PostProcessor {
 public:
  void process(std::vector<int32_t>&, bool) const override {}
};

int32_t pair_id(const nlohmann::json& j, std::string_view what, std::string_view where) {
  BREADTH_CHECK_FORMAT(j.is_array() && j.size() == 2, "{}: {} must be a [token, id] pair", where, what);
  return j.at(1).get<int32_t>();
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  BREADTH_CHECK_FORMAT(j.is_object() && j.contains("type"), "{}: a decoder must be an object with a 'type'", where);
  const std::string type = j.at("type").get<std::string>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (type == "Metaspace") {
    bool prepend = opt_bool(j, "add_prefix_space", true);
    if (j.contains("prepend_scheme") && !j.at("prepend_scheme").is_null())
      prepend = j.at("prepend_scheme").get<std::string>() != "never";
    return std::make_unique<MetaspaceDec>(j.value("replacement", std::string("\xE2\x96\x81")), prepend);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (type == "Fuse") return std::make_unique<FuseDec>();
  if (type == "Strip") {
    const std::string c = j.at("content").get<std::string>();
    BREADTH_CHECK_FORMAT(!c.empty() && is_valid_utf8(c) && valid_seq_len(c, 0) == c.size(),
                         "{}: Strip decoder content must be one character", where);
    return std::make_unique<StripDec>(c, j.value("start", size_t{0}), j.value("stop", size_t{0}));
  }
  if (type == "Replace") {
    const auto& p = j.at("pattern");
    std::string content = j.at("content").get<std::string>();
    if (p.contains("String")) return std::make_unique<ReplaceDec>(p.at("String").get<std::string>(), nullptr, content);
    if (p.contains("Regex"))
      return std::make_unique<ReplaceDec>("", std::make_unique<Regex>(p.at("Regex").get<std::string>(), where),
                                          content);
    fail<FormatError>("{}: Replace decoder pattern needs 'String' or 'Regex'", where);
  }
  if (type == "WordPiece")
    return std::make_unique<WordPieceDec>(j.value("prefix", std::string("##")), opt_bool(j, "cleanup", true));
  if (type == "BPEDecoder") return std::make_unique<BpeDec>(j.value("suffix", std::string("</w>")));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> parts;
    for (const auto& d : j.at("decoders")) {
      auto p = make_decoder(d, where);
      if (p) parts.push_back(std::move(p));
    }
    return std::make_unique<SequenceDec>(std::move(parts));
  }
  fail<Unsupported>("{}: decoder type '{}' is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, "
                    "Strip, Replace, WordPiece, BPEDecoder, Sequence)",
                    where, type);
}

std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j, std::string_view where) {
  if (j.is_null()) return nullptr;
  BREADTH_CHECK_FORMAT(j.is_object() && j.contains("type"),
                       "{}: a post_processor must be an object with a 'type'", where);
  const std::string type = j.at("type").get<std::string>();
  if (type == "ByteLevel") return std::make_unique<NoopProc>();
  if (type == "TemplateProcessing") {
    const auto& specials = j.at("special_tokens");
    std::vector<std::optional<std::vector<int32_t>>> items;
    for (const auto& piece : j.at("single")) {
      if (piece.contains("Sequence")) {
        items.emplace_back(std::nullopt);
      } else if (piece.contains("SpecialToken")) {
        const std::string id = piece.at("SpecialToken").at("id").get<std::string>();
        BREADTH_CHECK_FORMAT(specials.contains(id), "{}: TemplateProcessing uses '{}', missing from special_tokens",
                             where, id);
        items.emplace_back(specials.at(id).at("ids").get<std::vector<int32_t>>());
      } else {
        fail<FormatError>("{}: TemplateProcessing item must be 'Sequence' or 'SpecialToken'", where);
      }
    }
    return std::make_unique<TemplateProc>(std::move(items));
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    std::vector<std::optional<std::vector<int32_t>>> items;
    items.emplace_back(std::vector<int32_t>{pair_id(j.at("cls"), "cls", where)});
    items.emplace_back(std::nullopt);
    items.emplace_back(std::vector<int32_t>{pair_id(j.at("sep"), "sep", where)});
    return std::make_unique<TemplateProc>(std::move(items));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (const auto& p : j.at("processors")) {
      auto q = make_post_processor(p, where);
      if (q) parts.push_back(std::move(q));
    }
    return std::make_unique<SequenceProc>(std::move(parts));
  }
  fail<Unsupported>("{}: post_processor type '{}' is not supported (supported: TemplateProcessing, "
                    "BertProcessing, RobertaProcessing, ByteLevel, Sequence)",
                    where, type);
}

}  // namespace breadth::tok
