#include "tokenizer/hf_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "core/check.hpp"
#include "tokenizer/bpe.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/unigram.hpp"
#include "core/utf8.hpp"
#include "tokenizer/vocab.hpp"
#include "tokenizer/wordpiece.hpp"

namespace breadth::tok {

namespace {

class WordLevelModel final : public Model {
 public:
  WordLevelModel(std::vector<std::pair<std::string, int32_t>> vocab, std::string unk, std::string_view where)
      : unk_(std::move(unk)) {
    vocab_.assign(std::move(vocab), where);
  }
  void tokenize(std::string_view word, std::vector<int32_t>& out) const override {
    if (auto id = vocab_.find(word)) {
      out.push_back(*id);
      return;
    }
    const auto unk = vocab_.find(unk_);
    BREADTH_CHECK_FORMAT(unk.has_value(), "WordLevel unk_token '{}' is not in the vocabulary", unk_);
    out.push_back(*unk);
  }
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  int32_t size() const override { return vocab_.size(); }
 private:
  Vocab vocab_;
  std::string unk_;
};

std::vector<std::pair<std::string, int32_t>> read_vocab(const nlohmann::json& v, std::string_view where) {
  BREADTH_CHECK_FORMAT(v.is_object(), "{}: model.vocab must be an object of token -> id", where);
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    BREADTH_CHECK_FORMAT(it.value().is_number_integer(), "{}: id of token '{}' is not an integer", where, it.key());
    out.emplace_back(it.key(), it.value().get<int32_t>());
  }
  return out;
}

std::string opt_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

}  // namespace

std::unique_ptr<Model> make_model(const nlohmann::json& j, std::string_view where) {
  BREADTH_CHECK_FORMAT(j.is_object(), "{}: 'model' must be an object", where);
  std::string type = opt_string(j, "type");
  if (type.empty()) {
    // Old files leave the type out; infer it from the fields, as tokenizers does.
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("max_input_chars_per_word")) type = "WordPiece";
    else if (j.contains("vocab") && j.at("vocab").is_array()) type = "Unigram";
    else type = "WordLevel";
  }
  if (type == "BPE") {
    BpeOptions o;
    if (j.contains("unk_token") && !j.at("unk_token").is_null()) o.unk_token = j.at("unk_token").get<std::string>();
    o.continuing_subword_prefix = opt_string(j, "continuing_subword_prefix");
    o.end_of_word_suffix = opt_string(j, "end_of_word_suffix");
    o.fuse_unk = j.value("fuse_unk", false);
    o.byte_fallback = j.value("byte_fallback", false);
    o.ignore_merges = j.value("ignore_merges", false);
    std::vector<std::pair<std::string, std::string>> merges;
    const auto& m = j.at("merges");
    BREADTH_CHECK_FORMAT(m.is_array(), "{}: model.merges must be an array", where);
    merges.reserve(m.size());
    for (const auto& e : m) {
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ');
        BREADTH_CHECK_FORMAT(sp != std::string::npos, "{}: merge '{}' is not two tokens separated by a space", where, s);
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else {
        BREADTH_CHECK_FORMAT(e.is_array() && e.size() == 2, "{}: a merge must be \"a b\" or [a, b]", where);
        merges.emplace_back(e.at(0).get<std::string>(), e.at(1).get<std::string>());
      }
    }
    return std::make_unique<BpeModel>(read_vocab(j.at("vocab"), where), merges, std::move(o), where);
  }
  if (type == "WordPiece") {
    const std::string prefix = j.contains("continuing_subword_prefix") && !j.at("continuing_subword_prefix").is_null()
                                   ? j.at("continuing_subword_prefix").get<std::string>()
                                   : std::string("##");
    return std::make_unique<WordPieceModel>(read_vocab(j.at("vocab"), where), j.value("unk_token", std::string("[UNK]")),
                                            prefix, j.value("max_input_chars_per_word", size_t{100}), where);
  }
  if (type == "WordLevel")
    return std::make_unique<WordLevelModel>(read_vocab(j.at("vocab"), where), j.value("unk_token", std::string("<unk>")),
                                            where);
  if (type == "Unigram") {
    const auto& v = j.at("vocab");
    BREADTH_CHECK_FORMAT(v.is_array(), "{}: a Unigram model.vocab must be an array of [piece, score]", where);
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(v.size());
    for (const auto& e : v) {
      BREADTH_CHECK_FORMAT(e.is_array() && e.size() == 2 && e.at(0).is_string() && e.at(1).is_number(),
                           "{}: Unigram vocabulary entry {} is not [piece, score]", where, pieces.size());
      // Scores as the reference's JSON parser reads them (ties between segmentations hang on it).
      const double score = e.at(1).is_number_float() ? serde_json_f64(e.at(1).get<double>()) : e.at(1).get<double>();
      pieces.emplace_back(e.at(0).get<std::string>(), score);
    }
    std::optional<int32_t> unk;
    if (auto it = j.find("unk_id"); it != j.end() && !it->is_null()) {
      BREADTH_CHECK_FORMAT(it->is_number_integer(), "{}: Unigram unk_id must be an integer", where);
      unk = it->get<int32_t>();
    }
    return std::make_unique<UnigramModel>(std::move(pieces), unk, j.value("byte_fallback", false), where);
  }
  fail<Unsupported>("{}: tokenizer model type '{}' is not supported (supported: BPE, WordPiece, WordLevel, Unigram)",
                    where, type);
}

std::shared_ptr<HfTokenizer> HfTokenizer::from_json(const nlohmann::json& j, std::string_view where) {
  auto t = std::make_shared<HfTokenizer>();
  try {
    BREADTH_CHECK_FORMAT(j.is_object(), "{}: a tokenizer.json must be a JSON object", where);
    BREADTH_CHECK_FORMAT(j.contains("model"), "{}: no 'model' entry (is this a tokenizer.json?)", where);
    t->normalizer_ = make_normalizer(j.value("normalizer", nlohmann::json()), where);
    t->pre_tokenizer_ = make_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), where);
    t->model_ = make_model(j.at("model"), where);
    t->post_processor_ = make_post_processor(j.value("post_processor", nlohmann::json()), where);
    t->decoder_ = make_decoder(j.value("decoder", nlohmann::json()), where);
    std::vector<AddedToken> added;
    if (j.contains("added_tokens") && !j.at("added_tokens").is_null()) {
      for (const auto& a : j.at("added_tokens")) {
        AddedToken at;
        at.id = a.at("id").get<int32_t>();
        BREADTH_CHECK_FORMAT(at.id >= 0, "{}: added token with negative id {}", where, at.id);
        at.content = a.at("content").get<std::string>();
        BREADTH_CHECK_FORMAT(is_valid_utf8(at.content), "{}: added token {} is not valid UTF-8", where, at.id);
        at.single_word = a.value("single_word", false);
        at.lstrip = a.value("lstrip", false);
        at.rstrip = a.value("rstrip", false);
        at.special = a.value("special", false);
        at.normalized = a.value("normalized", !at.special);
        // Like the reference, a token the model vocabulary already holds takes the model's id.
        if (auto mid = t->model_->token_to_id(at.content)) at.id = *mid;
        added.push_back(std::move(at));
      }
    }
    t->added_.assign(std::move(added), t->normalizer_.get());
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: malformed tokenizer.json ({})", where, e.what());
  }
  return t;
}

std::shared_ptr<HfTokenizer> HfTokenizer::from_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail<IoError>("cannot open tokenizer file '{}'", path);
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    fail<FormatError>("{}: not valid JSON ({})", path, e.what());
  }
  return from_json(j, path);
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool add_special) const {
  std::vector<Piece> pieces(1);
  pieces[0].text = is_valid_utf8(text) ? std::string(text) : sanitize_utf8(text);
  pieces[0].at_start = true;
  added_.split(pieces, false);
  if (normalizer_) {
    for (auto& p : pieces)
      if (p.id < 0) normalizer_->normalize(p.text);
  }
  added_.split(pieces, true);
  // Normalization can empty a piece; the reference drops empty pieces.
  std::vector<Piece> kept;
  kept.reserve(pieces.size());
  for (auto& p : pieces)
    if (p.id >= 0 || !p.text.empty()) kept.push_back(std::move(p));
  if (pre_tokenizer_) pre_tokenizer_->pre_tokenize(kept);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  for (const auto& p : kept) {
    if (p.id >= 0) ids.push_back(p.id);
    else model_->tokenize(p.text, ids);
  }
  if (post_processor_) post_processor_->process(ids, add_special);
  return ids;
}

std::string HfTokenizer::decode_impl(const std::vector<int32_t>& ids, bool skip_special, bool raw) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* a = added_.by_id(id)) {
      if (skip_special && a->special) continue;
      tokens.push_back(added_.decode_form(*a));
      continue;
    }
    // Ids the vocabulary lacks are dropped, as the reference does. Like the reference, skipping
    // goes by the token's text: a model piece spelled like a special added token is skipped too.
    if (const std::string* s = model_->id_to_token(id)) {
      if (skip_special) {
        const auto added = added_.find(*s);
        const AddedToken* a = added ? added_.by_id(*added) : nullptr;
        if (a && a->special) continue;
      }
      tokens.push_back(*s);
    }
  }
  if (!decoder_) {
    std::string out;
    for (size_t k = 0; k < tokens.size(); ++k) {
      if (k) out.push_back(' ');
      out += tokens[k];
    }
    return out;
  }
  decoder_->decode_chain(tokens, raw);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  return decode_impl(ids, skip_special, false);
}

std::string HfTokenizer::decode_raw(const std::vector<int32_t>& ids, bool skip_special) const {
  return decode_impl(ids, skip_special, true);
}

std::string HfTokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* a = added_.by_id(id)) return added_.decode_form(*a);
  const std::string* s = model_->id_to_token(id);
  BREADTH_CHECK_ARG(s != nullptr, "token id {} is not in the vocabulary (size {})", id, vocab_size());
  return *s;
}

std::string HfTokenizer::token_bytes(int32_t id) const {
  if (const AddedToken* a = added_.by_id(id); a && a->special) return a->content;
  std::string t = id_to_token(id);
  if (decoder_) decoder_->mid_token(t);
  else t.insert(0, " ");
  return t;
}

std::optional<int32_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (auto id = added_.find(token)) return id;
  return model_->token_to_id(token);
}

int32_t HfTokenizer::vocab_size() const { return std::max(model_->size(), added_.max_id() + 1); }

bool HfTokenizer::is_special(int32_t id) const {
  const AddedToken* a = added_.by_id(id);
  return a && a->special;
}

}  // namespace breadth::tok
