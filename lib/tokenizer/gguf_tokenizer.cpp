#include "tokenizer/gguf_tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/check.hpp"
#include "io/gguf.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/pipeline.hpp"
#include "tokenizer/utf8.hpp"

namespace breadth::tok {

namespace {

constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// tokenizer.ggml.pre names with a split regex of their own (transformers' GGUF_PRE_TOKENIZER_SPLITS);
// any other name keeps GPT-2's ByteLevel regex.
const char* split_for_pre(const std::string& pre) {
  static const std::map<std::string, const char*> kSplits = {
      {"llama3", kLlama3Split},     {"llama-v3", kLlama3Split},  {"llama-bpe", kLlama3Split},
      {"falcon3", kLlama3Split},    {"falcon-h1", kLlama3Split}, {"pixtral", kLlama3Split},
      {"midm-2.0", kLlama3Split},   {"lfm2", kLlama3Split},      {"dbrx", kLlama3Split},
      {"smaug-bpe", kLlama3Split},  {"qwen2", kQwen2Split},      {"deepseek-r1-qwen", kQwen2Split},
      {"megrez", kQwen2Split},      {"gpt-4o", kGpt4oSplit},     {"llama4", kGpt4oSplit},
  };
  auto it = kSplits.find(pre);
  return it == kSplits.end() ? nullptr : it->second;
}

enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::string token_at(const std::vector<std::string>& tokens, std::optional<int64_t> id) {
  return id && *id >= 0 && static_cast<size_t>(*id) < tokens.size() ? tokens[*id] : std::string();
}

}  // namespace

std::shared_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& g) {
  const std::string where = g.path();
  const std::string model = g.get_string("tokenizer.ggml.model", "");
  BREADTH_CHECK_FORMAT(!model.empty(), "{}: no tokenizer.ggml.model entry (this GGUF carries no tokenizer)", where);
  if (model != "gpt2")
    fail<Unsupported>("{}: GGUF tokenizer model '{}' is not supported (supported: gpt2)", where, model);
  const auto tokens = g.get_string_array("tokenizer.ggml.tokens");
  std::vector<int64_t> types = g.find_int_array("tokenizer.ggml.token_type").value_or(std::vector<int64_t>{});
  BREADTH_CHECK_FORMAT(types.empty() || types.size() == tokens.size(),
                       "{}: tokenizer.ggml.token_type has {} entries for {} tokens", where, types.size(), tokens.size());
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
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& t = tokens[id];
    std::string spelled;
    if (in_alphabet(t)) spelled = t;
    else
      for (unsigned char b : t) spelled += table[b];
    vocab[spelled] = static_cast<int64_t>(id);
  }
  nlohmann::json jmerges = nlohmann::json::array();
  for (const auto& m : merges) jmerges.push_back(m);

  nlohmann::json j;
  j["model"] = {{"type", "BPE"}, {"vocab", std::move(vocab)}, {"merges", std::move(jmerges)},
                {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"byte_fallback", false}, {"ignore_merges", false}};
  j["normalizer"] = nullptr;
  const std::string pre = g.get_string("tokenizer.ggml.pre", "default");
  if (const char* split = split_for_pre(pre)) {
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"}, {"pattern", {{"Regex", split}}}, {"behavior", "Isolated"}, {"invert", false}},
                            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  } else {
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  }
  j["decoder"] = {{"type", "ByteLevel"}};

  const auto bos = g.find_int("tokenizer.ggml.bos_token_id");
  const auto eos = g.find_int("tokenizer.ggml.eos_token_id");
  const auto pad = g.find_int("tokenizer.ggml.padding_token_id");
  // add_special: BOS/EOS as the file's add_bos_token/add_eos_token ask (both off by default for gpt2).
  nlohmann::json single = nlohmann::json::array(), specials = nlohmann::json::object();
  auto add_special_item = [&](std::optional<int64_t> id) {
    const std::string t = token_at(tokens, id);
    BREADTH_CHECK_FORMAT(!t.empty(), "{}: special token id {} is outside the vocabulary", where, id.value_or(-1));
    single.push_back({{"SpecialToken", {{"id", t}, {"type_id", 0}}}});
    specials[t] = {{"id", t}, {"ids", {*id}}, {"tokens", {t}}};
  };
  if (g.get_bool("tokenizer.ggml.add_bos_token", false) && bos) add_special_item(bos);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (g.get_bool("tokenizer.ggml.add_eos_token", false) && eos) add_special_item(eos);
  j["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", specials}};

  // Control tokens (spelled in the byte alphabet) are special; user-defined ones plain added tokens.
  nlohmann::json added = nlohmann::json::array();
  std::unordered_set<std::string> seen;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t id = 0; id < types.size(); ++id) {
      const bool control = types[id] == kControl && in_alphabet(tokens[id]);
      const bool user = types[id] == kUserDefined && in_alphabet(tokens[id]);
      if (!(pass == 0 ? control : user) || tokens[id].empty() || !seen.insert(tokens[id]).second) continue;
      added.push_back({{"id", static_cast<int64_t>(id)}, {"content", tokens[id]}, {"single_word", false},
                       {"lstrip", false}, {"rstrip", false}, {"normalized", false}, {"special", pass == 0}});
    }
  }
  j["added_tokens"] = std::move(added);

  auto t = HfTokenizer::from_json(j, where);
  std::vector<int32_t> eos_ids;
  if (eos) eos_ids.push_back(static_cast<int32_t>(*eos));
  add_known_end_tokens(*t, eos_ids);
  t->set_specials(bos ? std::optional<int32_t>(static_cast<int32_t>(*bos)) : std::nullopt, eos_ids,
                  pad ? std::optional<int32_t>(static_cast<int32_t>(*pad)) : std::nullopt);
  if (auto src = g.find_string("tokenizer.chat_template"))
    t->set_chat_template(make_chat_template(*src, token_at(tokens, bos), token_at(tokens, eos)));
  return t;
}

}  // namespace breadth::tok
