// GGUF vocabularies rebuilt as the tokenizer.json pipeline transformers makes of them
// (integrations/gguf/gguf_tokenizer_mapping.py), then run by HfTokenizer.
#include "tokenizer/gguf_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "core/check.hpp"
#include "io/gguf.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/pipeline.hpp"
#include "tokenizer/spm_merges.hpp"
#include "tokenizer/unicode.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {

using nlohmann::json;

constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kTekkenSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// tokenizer.ggml.pre names with a split regex of their own (transformers' GGUF_PRE_TOKENIZER_SPLITS);
// any other name keeps the pre-tokenizer of the vocabulary's class.
const char* split_for_pre(const std::string& pre) {
  static const std::map<std::string, const char*> kSplits = {
      {"llama3", kLlama3Split},      {"llama-v3", kLlama3Split},   {"llama-bpe", kLlama3Split},
      {"falcon3", kLlama3Split},     {"falcon-h1", kLlama3Split},  {"pixtral", kLlama3Split},
      {"midm-2.0", kLlama3Split},    {"lfm2", kLlama3Split},       {"jina-v5-nano", kLlama3Split},
      {"dbrx", kLlama3Split},        {"smaug-bpe", kLlama3Split},  {"tekken", kTekkenSplit},
      {"qwen2", kQwen2Split},        {"deepseek-r1-qwen", kQwen2Split}, {"kormo", kQwen2Split},
      {"f2llmv2", kQwen2Split},      {"megrez", kQwen2Split},      {"qwen35", kQwen35Split},
      {"gpt-4o", kGpt4oSplit},       {"llama4", kGpt4oSplit},      {"kanana2", kGpt4oSplit},
      {"talkie", kGpt4oSplit},       {"minimax-m2", kGpt4oSplit},
  };
  auto it = kSplits.find(pre);
  return it == kSplits.end() ? nullptr : it->second;
}

enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The SentencePiece-style vocabularies transformers builds differently (select_tokenizer_builder).
enum class SpmFlavor {
  kLlama,  // LlamaTokenizer: Metaspace (prepend "first"), decoder strips the leading space
  kGemma,  // GemmaTokenizer: spaces replaced by ▁ in the normalizer, no prefix space, unk "<unk>"
  kPhi3,   // LlamaTokenizer with Prepend(▁) + Replace(" ", ▁) as the normalizer and no pre-tokenizer
};

std::string token_at(const std::vector<std::string>& tokens, std::optional<int64_t> id) {
  return id && *id >= 0 && static_cast<size_t>(*id) < tokens.size() ? tokens[*id] : std::string();
}

// What every GGUF vocabulary shares: tokens, their types, the special ids and flags.
struct GgufVocab {
  std::string where;
  std::vector<std::string> tokens;
  std::vector<int64_t> types;  // empty when the file has none
  std::optional<int64_t> bos, eos, unk, pad;

  explicit GgufVocab(const io::GgufFile& g) : where(g.path()) {
    tokens = g.get_string_array("tokenizer.ggml.tokens");
    types = g.find_int_array("tokenizer.ggml.token_type").value_or(std::vector<int64_t>{});
    BREADTH_CHECK_FORMAT(types.empty() || types.size() == tokens.size(),
                         "{}: tokenizer.ggml.token_type has {} entries for {} tokens", where, types.size(),
                         tokens.size());
    bos = g.find_int("tokenizer.ggml.bos_token_id");
    eos = g.find_int("tokenizer.ggml.eos_token_id");
    unk = g.find_int("tokenizer.ggml.unknown_token_id");
    pad = g.find_int("tokenizer.ggml.padding_token_id");
    // transformers looks the special tokens up by index (an IndexError there); name the key here.
    for (const auto& [key, id] : {std::pair{"bos_token_id", bos}, {"eos_token_id", eos}, {"unknown_token_id", unk},
                                  {"padding_token_id", pad}})
      BREADTH_CHECK_FORMAT(!id || (*id >= 0 && static_cast<uint64_t>(*id) < tokens.size()),
                           "{}: tokenizer.ggml.{} = {} is outside the vocabulary of {} tokens", where, key, *id,
                           tokens.size());
  }
  int64_t type(size_t id) const { return types.empty() ? int64_t{kNormal} : types[id]; }
};

json added_entry(int64_t id, const std::string& content, bool special) {
  return {{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},   {"normalized", false}, {"special", special}};
}

// Added tokens as transformers' add_tokens assigns them: a token the model vocabulary has keeps its
// id; a new one gets the model's vocabulary size (its number of distinct entries), or one past the
// largest added id once that is beyond it (tokenizers' AddedVocabulary::add_tokens).
class AddedList {
 public:
  AddedList(const json& vocab) : vocab_(vocab), model_size_(static_cast<int64_t>(vocab.size())) {}
  void add(const std::string& content, bool special) {
    if (content.empty() || !seen_.insert(content).second) return;
    int64_t id;
    if (auto it = vocab_.find(content); it != vocab_.end()) id = it->get<int64_t>();
    else id = max_id_ >= model_size_ ? max_id_ + 1 : model_size_;
    max_id_ = std::max(max_id_, id);
    list_.push_back(added_entry(id, content, special));
  }
  json take() { return std::move(list_); }

 private:
  const json& vocab_;
  int64_t model_size_;
  int64_t max_id_ = -1;
  std::unordered_set<std::string> seen_;
  json list_ = json::array();
};

// transformers' update_post_processor: "[bos] $A [eos]" as add_bos_token / add_eos_token say.
json post_processor(const GgufVocab& v, const json& vocab, bool add_bos, bool add_eos) {
  json single = json::array(), specials = json::object();
  auto item = [&](std::optional<int64_t> id) {
    const std::string t = token_at(v.tokens, id);
    const auto it = vocab.find(t);
    const int64_t tid = it != vocab.end() ? it->get<int64_t>() : *id;
    single.push_back({{"SpecialToken", {{"id", t}, {"type_id", 0}}}});
    specials[t] = {{"id", t}, {"ids", {tid}}, {"tokens", {t}}};
  };
  if (add_bos && v.bos) item(v.bos);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (add_eos && v.eos) item(v.eos);
  return {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", specials}};
}

json split_pre_tokenizer(const char* split) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
}

// Sets bos/eos/pad and the chat template from the metadata.
void finish(HfTokenizer& t, const io::GgufFile& g, const GgufVocab& v) {
  std::vector<int32_t> eos_ids;
  if (v.eos) eos_ids.push_back(static_cast<int32_t>(*v.eos));
  add_known_end_tokens(t, eos_ids);
  t.set_specials(v.bos ? std::optional<int32_t>(static_cast<int32_t>(*v.bos)) : std::nullopt, eos_ids,
                 v.pad ? std::optional<int32_t>(static_cast<int32_t>(*v.pad)) : std::nullopt);
  if (auto src = g.find_string("tokenizer.chat_template"))
    t.set_chat_template_source(*src, token_at(v.tokens, v.bos), token_at(v.tokens, v.eos));
}

// tokenizer.ggml.model = "gpt2": byte-level BPE (byte_level_tokenizer).
std::shared_ptr<HfTokenizer> load_gpt2(const io::GgufFile& g, const GgufVocab& v) {
  const auto merges = g.get_string_array("tokenizer.ggml.merges");
  // Tokens spelled outside the byte-level alphabet are respelled byte by byte.
  const auto& table = byte_to_unicode();
  auto in_alphabet = [](const std::string& t) {
    if (!is_valid_utf8(t)) return false;
    for (size_t i = 0; i < t.size();) {
      if (byte_of_unicode(next_cp(t, i)) < 0) return false;
    }
    return true;
  };
  json vocab = json::object();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string& t = v.tokens[id];
    std::string spelled;
    if (in_alphabet(t)) spelled = t;
    else
      for (unsigned char b : t) spelled += table[b];
    vocab[spelled] = static_cast<int64_t>(id);
  }
  json jmerges = json::array();
  for (const auto& m : merges) jmerges.push_back(m);

  json j;
  j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", std::move(jmerges)},
                {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"byte_fallback", false}, {"ignore_merges", false}};
  j["normalizer"] = nullptr;
  const std::string pre = g.get_string("tokenizer.ggml.pre", "default");
  if (const char* split = split_for_pre(pre)) j["pre_tokenizer"] = split_pre_tokenizer(split);
  else j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  j["decoder"] = {{"type", "ByteLevel"}};
  j["post_processor"] = post_processor(v, vocab, g.get_bool("tokenizer.ggml.add_bos_token", false),
                                       g.get_bool("tokenizer.ggml.add_eos_token", false));

  // Control tokens spelled in the byte alphabet are special (others are llama.cpp mislabels that
  // transformers skips); user-defined ones plain added tokens.
  AddedList added(vocab);
  added.add("<|endoftext|>", true);  // GPT2Tokenizer's own bos/eos/unk
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kControl && in_alphabet(v.tokens[id])) added.add(v.tokens[id], true);
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kUserDefined && vocab.contains(v.tokens[id])) added.add(v.tokens[id], false);
  for (auto id : {v.bos, v.eos, v.unk, v.pad})
    if (id && vocab.contains(v.tokens[*id])) added.add(v.tokens[*id], true);
  j["added_tokens"] = added.take();
  return HfTokenizer::from_json(j, v.where);
}

// A token made only of whitespace that holds a space ("  "), as Gemma files store runs of spaces:
// transformers respells it as that many ▁.
bool is_space_run(const std::string& t) {
  bool has_space = false;
  for (size_t i = 0; i < t.size();) {
    const char32_t c = next_cp(t, i);
    if (!is_python_space(c)) return false;
    has_space = has_space || c == U' ';
  }
  return has_space;
}

// tokenizer.ggml.model = "llama" (and "gemma4"): BPE with byte fallback over SentencePiece pieces,
// merges from the file or derived from the scores (sentencepiece_tokenizer / gemma_tokenizer /
// phi3_tokenizer).
std::shared_ptr<HfTokenizer> load_spm_bpe(const io::GgufFile& g, const GgufVocab& v, SpmFlavor flavor,
                                          bool respell_spaces, bool merges_by_position, bool add_bos) {
  for (size_t id = 0; id < v.tokens.size(); ++id)
    BREADTH_CHECK_FORMAT(is_valid_utf8(v.tokens[id]), "{}: token {} of tokenizer.ggml.tokens is not valid UTF-8",
                         v.where, id);
  std::vector<std::string> spelled = v.tokens;
  if (respell_spaces) {
    for (auto& t : spelled) {
      if (!is_space_run(t)) continue;
      size_t n = 0;
      for (size_t i = 0; i < t.size(); i += cp_len(static_cast<unsigned char>(t[i]))) ++n;
      t.clear();
      for (size_t k = 0; k < n; ++k) t += "\xE2\x96\x81";
    }
  }
  json vocab = json::object();
  for (size_t id = 0; id < spelled.size(); ++id) vocab[spelled[id]] = static_cast<int64_t>(id);

  json jmerges = json::array();
  if (g.has("tokenizer.ggml.merges")) {
    for (const auto& m : g.get_string_array("tokenizer.ggml.merges")) jmerges.push_back(m);
  } else {
    std::vector<double> scores;
    if (merges_by_position) {
      scores.resize(spelled.size());
      for (size_t id = 0; id < spelled.size(); ++id) scores[id] = -static_cast<double>(id);
    } else {
      auto s = g.find_float_array("tokenizer.ggml.scores");
      BREADTH_CHECK_FORMAT(s.has_value(), "{}: a '{}' vocabulary needs tokenizer.ggml.merges or tokenizer.ggml.scores",
                           v.where, g.get_string("tokenizer.ggml.model", ""));
      BREADTH_CHECK_FORMAT(s->size() == spelled.size(), "{}: tokenizer.ggml.scores has {} entries for {} tokens",
                           v.where, s->size(), spelled.size());
      for (size_t id = 0; id < s->size(); ++id)
        BREADTH_CHECK_FORMAT(!std::isnan((*s)[id]), "{}: tokenizer.ggml.scores[{}] is NaN", v.where, id);
      scores = std::move(*s);
    }
    for (auto& [a, b] : merges_from_scores(spelled, scores)) jmerges.push_back(json::array({a, b}));
  }

  const bool gemma = flavor == SpmFlavor::kGemma;
  json j;
  j["model"] = {{"type", "BPE"},       {"vocab", vocab},      {"merges", std::move(jmerges)},
                {"fuse_unk", true},    {"byte_fallback", true}, {"ignore_merges", false},
                {"unk_token", gemma ? json("<unk>") : json(nullptr)}};
  json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  if (!gemma) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  const json replace_spaces = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}};
  switch (flavor) {
    case SpmFlavor::kLlama:
      j["normalizer"] = nullptr;
      j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"},
                            {"split", false}};
      break;
    case SpmFlavor::kGemma:
      j["normalizer"] = replace_spaces;
      j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"},
                            {"invert", false}};
      break;
    case SpmFlavor::kPhi3:
      j["normalizer"] = {{"type", "Sequence"},
                         {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, replace_spaces}}};
      j["pre_tokenizer"] = nullptr;
      break;
  }
  if (const char* split = split_for_pre(g.get_string("tokenizer.ggml.pre", "default")))
    j["pre_tokenizer"] = split_pre_tokenizer(split);
  j["post_processor"] = post_processor(v, vocab, add_bos, g.get_bool("tokenizer.ggml.add_eos_token", false));

  // The order transformers adds them in, which decides the ids of tokens the vocabulary lacks:
  // the tokenizer class's own specials, the file's control tokens, its user-defined tokens, then
  // the special tokens the file names by id.
  AddedList added(vocab);
  const std::vector<std::string> class_specials =
      gemma ? std::vector<std::string>{"<bos>", "<eos>", "<unk>", "<pad>", "<mask>"}
            : std::vector<std::string>{"<s>", "</s>", "<unk>"};
  for (const auto& s : class_specials) added.add(s, true);
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kControl) added.add(v.tokens[id], true);
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kUserDefined && vocab.contains(v.tokens[id])) added.add(v.tokens[id], false);
  for (auto id : {v.bos, v.eos, v.unk, v.pad})
    if (id) added.add(v.tokens[*id], true);
  j["added_tokens"] = added.take();
  return HfTokenizer::from_json(j, v.where);
}

}  // namespace

std::shared_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& g) {
  const std::string where = g.path();
  const std::string model = g.get_string("tokenizer.ggml.model", "");
  BREADTH_CHECK_FORMAT(!model.empty(), "{}: no tokenizer.ggml.model entry (this GGUF carries no tokenizer)", where);
  std::shared_ptr<HfTokenizer> t;
  if (model == "gpt2") {
    const GgufVocab v(g);
    t = load_gpt2(g, v);
    finish(*t, g, v);
    return t;
  }
  if (model == "llama" || model == "gemma4") {
    const GgufVocab v(g);
    const std::string arch = g.get_string("general.architecture", "");
    const bool gemma_arch = arch == "gemma" || arch == "gemma2" || arch == "gemma3";
    // llama.cpp adds BOS to a SentencePiece vocabulary unless the file says otherwise.
    const bool add_bos = g.get_bool("tokenizer.ggml.add_bos_token", true);
    if (model == "gemma4") {
      // GemmaTokenizer over the file's spelling and scores. transformers adds no BOS whatever the
      // file says (the chat template writes it).
      t = load_spm_bpe(g, v, SpmFlavor::kGemma, false, false, false);
    } else if (gemma_arch) {
      t = load_spm_bpe(g, v, SpmFlavor::kGemma, true, true, add_bos);
    } else {
      t = load_spm_bpe(g, v, arch == "phi3" ? SpmFlavor::kPhi3 : SpmFlavor::kLlama, false, false, add_bos);
    }
    finish(*t, g, v);
    return t;
  }
  fail<Unsupported>("{}: GGUF tokenizer model '{}' is not supported (supported: gpt2, llama, gemma4)", where, model);
}

}  // namespace breadth::tok
