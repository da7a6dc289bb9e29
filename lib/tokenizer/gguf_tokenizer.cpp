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
#include "tokenizer/base64.hpp"
#include "tokenizer/config_specials.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/pipeline.hpp"
#include "tokenizer/rwkv_tokenizer.hpp"
#include "tokenizer/spm_merges.hpp"
#include "tokenizer/unicode.hpp"
#include "core/utf8.hpp"

namespace breadth::tok {

namespace {

using nlohmann::json;

// The split regexes of the models' own tokenizer.json files.
constexpr const char* kGpt2Split =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kJais2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s{512}(?!\S)|\s{256}(?!\S)|\s{128}(?!\S)|\s{64}(?!\S)|\s{32}(?!\S)|\s{16}(?!\S)|\s{8}(?!\S)|\s{4}(?!\S)|\s{1,2}(?!\S)|\s{1})";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kUfakzekaSplit =
    R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kSeedCoderSplit =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBailingSplit =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kExaoneMoeSplit =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kMiniCpm5Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kTekkenSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kDeepseekV3Split =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kSpark25Split =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+|[\r\n]|\s+(?!\S)|\s+)";
constexpr const char* kYoutuCjkSplit =
    "[\uac00-\ud7a3\u3131-\u318e]+|[\uff01\u2026\u201c\u201d\u2018\u2019\u2014\uff1a\uff1b\uff0c\u3001-\u303f\ufe30-\ufe4f]+|"
    "[\u3105-\u312f]+|[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+";
constexpr const char* kCjkKanaSplit = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+";
constexpr const char* kDeepseekCjkSplit = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+";
// Kimi-K2's pattern (tokenization_kimi.py): Han runs on their own, and the letter classes of the
// GPT-4o pattern without Han. Moonshot writes the exclusion as class intersection
// ([...&&[^\p{Han}]]); PCRE2 gets the same set as a negative lookahead before each letter.
#define BREADTH_NOT_HAN "(?!\\p{Han})"
constexpr const char* kKimiK2Split =
    "\\p{Han}+|"
    "[^\\r\\n\\p{L}\\p{N}]?(?:" BREADTH_NOT_HAN "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}])*(?:" BREADTH_NOT_HAN
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}])+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
    "[^\\r\\n\\p{L}\\p{N}]?(?:" BREADTH_NOT_HAN "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}])+(?:" BREADTH_NOT_HAN
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}])*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
#undef BREADTH_NOT_HAN
// AFMoE (Arcee Trinity): digit runs cut into groups of three from the right (a leading group of one
// or two), then runs of CJK and other Asian scripts, then DeepSeek-V3's pattern.
constexpr const char* kAfmoeDigitsSplit = R"(\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N})))";
constexpr const char* kAfmoeCjkSplit =
    "[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\uff65-\uff9f\u2f00-\u2fdf\u0e00-\u0e7f"
    "\u0e80-\u0eff\u1780-\u17ff\u1000-\u109f\uaa60-\uaa7f\ua9e0-\ua9ff\uac00-\ud7af\u1100-\u11ff]+";
// BLOOM's regex nests a class in a class (Oniguruma); PCRE2 needs it flat.
constexpr const char* kBloomSplit = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+";

json split_stage(const std::string& regex, const char* behavior = "Isolated") {
  return {{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", behavior}, {"invert", false}};
}
json byte_level_stage(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", use_regex}};
}
json digits_stage(bool individual) { return {{"type", "Digits"}, {"individual_digits", individual}}; }
json sequence_stage(json parts) { return {{"type", "Sequence"}, {"pretokenizers", std::move(parts)}}; }
// Split stages on the raw text, then the byte-level mapping.
json splits_then_bytes(std::initializer_list<json> splits) {
  json parts = json::array();
  for (const auto& s : splits) parts.push_back(s);
  parts.push_back(byte_level_stage(false));
  return sequence_stage(std::move(parts));
}

// What a `tokenizer.ggml.pre` value stands for: the pre-tokenizer of the model llama.cpp recognised
// the vocabulary as (written as that model's tokenizer.json stages), and whether its BPE ignores
// merges for words that are whole tokens.
struct BpePre {
  json pre_tokenizer;
  bool ignore_merges = false;
};

constexpr const char* kSpmBpeGroup = "spm-bpe";
constexpr const char* kWhitespaceGroup = "whitespace";

// The `tokenizer.ggml.pre` values llama.cpp knows for BPE vocabularies, grouped by the
// pre-tokenizer (or, for the last two groups, the whole pipeline) they select. This table is the
// one place a pre value is mapped.
const std::map<std::string, std::vector<std::string>>& pre_groups() {
  static const std::map<std::string, std::vector<std::string>> g = {
      {"gpt2", {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                "modern-bert", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4", "jina-v1-en",
                "jina-v2-code", "roberta-bpe"}},
      {"default", {"default"}},
      {"llama3", {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                  "jina-v5-nano"}},
      {"llama3-merges", {"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}},
      {"jais2", {"jais-2"}},
      {"qwen2", {"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open",
                 "grok-2"}},
      {"qwen35", {"qwen35"}},
      {"ufakzeka", {"ufakzeka"}},
      {"seed-coder", {"seed-coder"}},
      {"bailingmoe", {"bailingmoe", "bailingmoe2", "llada-moe"}},
      {"exaone-moe", {"exaone-moe"}},
      {"minicpm5", {"minicpm5"}},
      {"laguna", {"laguna"}},
      {"deepseek-llm", {"deepseek-llm"}},
      {"deepseek-coder", {"deepseek-coder"}},
      {"deepseek-v3", {"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}},
      {"spark2_5", {"spark2_5"}},
      {"youtu", {"youtu"}},
      {"falcon", {"falcon"}},
      {"starcoder", {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"}},
      {"bloom", {"bloom", "poro-chat", "gpt3-finnish"}},
      {"viking", {"viking"}},
      {"tekken", {"tekken"}},
      {"chameleon", {"chameleon"}},
      {"gpt-4o", {"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}},
      {"gpt-4o-ignore", {"granite-embed-multi-97m"}},
      {"tiny_aya", {"tiny_aya", "cohere2moe"}},
      {"superbpe", {"superbpe"}},
      {"kimi-k2", {"kimi-k2"}},
      {"afmoe", {"afmoe"}},
      // Not byte-level: SentencePiece-style BPE over raw UTF-8 (spaces as U+2581, <0xXX> byte
      // fallback), and BPE over raw UTF-8 words split at whitespace.
      {kSpmBpeGroup, {"gemma4", "granite-embed-multi-311m", "sarvam-moe"}},
      {kWhitespaceGroup, {"whitespace"}},
  };
  return g;
}

BpePre bpe_pre_for_group(const std::string& group) {
  if (group == "gpt2") return {byte_level_stage(true)};
  if (group == "default")
    // llama.cpp's own default (no model's tokenizer.json): punctuation runs, GPT-2's regex, digit
    // runs, then groups of three ASCII digits, all on the raw text.
    return {splits_then_bytes({split_stage(R"([\p{P}\$\+<=>\^~\|]+)"), split_stage(kGpt2Split),
                               split_stage(R"(\p{N}+)"), split_stage("[0-9][0-9][0-9]")})};
  if (group == "llama3") return {splits_then_bytes({split_stage(kLlama3Split)}), true};
  if (group == "llama3-merges") return {splits_then_bytes({split_stage(kLlama3Split)})};
  if (group == "jais2") return {splits_then_bytes({split_stage(kJais2Split)})};
  if (group == "qwen2") return {splits_then_bytes({split_stage(kQwen2Split)})};
  if (group == "qwen35") return {splits_then_bytes({split_stage(kQwen35Split)})};
  if (group == "ufakzeka") return {splits_then_bytes({split_stage(kUfakzekaSplit)})};
  if (group == "seed-coder") return {splits_then_bytes({split_stage(kSeedCoderSplit)})};
  if (group == "bailingmoe") return {splits_then_bytes({split_stage(kBailingSplit)})};
  if (group == "exaone-moe") return {splits_then_bytes({split_stage(kExaoneMoeSplit)})};
  if (group == "minicpm5") return {splits_then_bytes({split_stage(R"(\p{N}{1,3})"), split_stage(kMiniCpm5Split)}), true};
  if (group == "laguna") return {splits_then_bytes({split_stage(R"([^\n]+|[\n]+)"), split_stage(kQwen2Split)})};
  if (group == "deepseek-llm")
    return {sequence_stage(
        {split_stage("[\r\n]"),
         split_stage("\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af"
                     "\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5"
                     "\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba"
                     "\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45"
                     "\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe"
                     "\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc"
                     "\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
                     "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3"
                     "\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06"
                     "\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f\U000104b0-\U000104d3"
                     "\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2\U000118a0-\U000118df"
                     "\U0001e900-\U0001e943]+"),
         split_stage("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"), split_stage("\\s+$"),
         split_stage(kDeepseekCjkSplit), digits_stage(false), byte_level_stage(false)})};
  if (group == "deepseek-coder")
    return {sequence_stage({split_stage("[\r\n]"), split_stage(R"(\s?\p{L}+)"), split_stage(R"(\s?\p{P}+)"),
                            split_stage(kDeepseekCjkSplit), digits_stage(true), byte_level_stage(false)})};
  if (group == "deepseek-v3")
    return {splits_then_bytes({split_stage(R"(\p{N}{1,3})"), split_stage(kCjkKanaSplit), split_stage(kDeepseekV3Split)})};
  if (group == "spark2_5")
    return {splits_then_bytes({split_stage(R"(\p{N}{1,3})"), split_stage(kCjkKanaSplit), split_stage(kSpark25Split),
                               split_stage(R"(\p{N})")})};
  if (group == "youtu") return {splits_then_bytes({split_stage(kYoutuCjkSplit), split_stage(kGpt4oSplit)}), true};
  if (group == "falcon")
    // Falcon's tokenizer.json: Punctuation (contiguous), ByteLevel with GPT-2's regex, Digits, then
    // groups of three digits.
    return {sequence_stage({{{"type", "Punctuation"}, {"behavior", "Contiguous"}}, byte_level_stage(true),
                            digits_stage(false), split_stage("[0-9][0-9][0-9]")})};
  if (group == "starcoder") return {sequence_stage({digits_stage(true), byte_level_stage(true)})};
  if (group == "bloom") return {splits_then_bytes({split_stage(kBloomSplit)})};
  if (group == "viking") return {splits_then_bytes({split_stage(kBloomSplit), split_stage(R"(\p{N})")})};
  if (group == "tekken") return {splits_then_bytes({split_stage(kTekkenSplit)}), true};
  if (group == "chameleon")
    return {sequence_stage({split_stage("<sentinel:[0-9]+>"), split_stage("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"),
                            split_stage("([\\t\\n]|    |  )"), digits_stage(true),
                            {{"type", "Punctuation"}, {"behavior", "Isolated"}}, byte_level_stage(true)})};
  if (group == "gpt-4o") return {splits_then_bytes({split_stage(kGpt4oSplit)})};
  if (group == "gpt-4o-ignore") return {splits_then_bytes({split_stage(kGpt4oSplit)}), true};
  if (group == "tiny_aya")
    return {splits_then_bytes({split_stage(R"(\d{1,3}(?=(?:\d{3})*\b))"), split_stage(kGpt4oSplit)})};
  if (group == "kimi-k2")
    // tiktoken (and transformers' conversion of it) looks a whole piece up before merging.
    return {splits_then_bytes({split_stage(kKimiK2Split)}), true};
  if (group == "afmoe")
    return {splits_then_bytes({split_stage(kAfmoeDigitsSplit), split_stage(kAfmoeCjkSplit),
                               split_stage(kDeepseekV3Split)})};
  if (group == "superbpe")
    return {splits_then_bytes({split_stage(R"(\p{N}+)"), split_stage(R"((?=(\d{3})+(?!\d)))")})};
  fail<InvalidArgument>("internal: no pre-tokenizer group '{}'", group);
}

// The group a `tokenizer.ggml.pre` value belongs to; Unsupported naming the value when breadth does
// not know it (never a silently different tokenization).
std::string pre_group(const std::string& pre, const std::string& where) {
  for (const auto& [group, names] : pre_groups())
    if (std::find(names.begin(), names.end(), pre) != names.end()) return group;
  fail<Unsupported>("{}: unknown tokenizer.ggml.pre '{}' (breadth knows the values llama.cpp knows for gpt2 "
                    "vocabularies; see docs/tokenizers.md)",
                    where, pre);
}

enum TokenType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// The SentencePiece-style vocabularies.
enum class SpmFlavor {
  // The Llama-2 / Mistral tokenizer.json (and llama.cpp's SPM): Prepend(▁) + Replace(" ", ▁) as the
  // normalizer of every piece between added tokens, no pre-tokenizer, the decoder strips the prefix
  // space. Without tokenizer.ggml.add_space_prefix there is no prefix space to add or strip.
  kLlama,
  kGemma,  // GemmaTokenizer: spaces replaced by ▁ in the normalizer, no prefix space, unk "<unk>"
  // A gpt2 file whose pre is Gemma-4's (gemma4, granite-embed-multi-311m, sarvam-moe): the same
  // pipeline as kGemma (llama.cpp's escape_whitespaces, raw UTF-8 BPE, <0xXX> fallback), the unknown
  // token the file names, and no tokenizer class of its own adding specials.
  kSpmBpe,
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

// Sets bos/eos/pad and the chat template from the metadata.
void finish(ConfigurableTokenizer& t, const io::GgufFile& g, const GgufVocab& v) {
  std::vector<int32_t> eos_ids;
  if (v.eos) eos_ids.push_back(static_cast<int32_t>(*v.eos));
  add_known_end_tokens(t, eos_ids);
  t.set_specials(v.bos ? std::optional<int32_t>(static_cast<int32_t>(*v.bos)) : std::nullopt, eos_ids,
                 v.pad ? std::optional<int32_t>(static_cast<int32_t>(*v.pad)) : std::nullopt);
  if (auto src = g.find_string("tokenizer.chat_template"))
    t.set_chat_template_source(*src, token_at(v.tokens, v.bos), token_at(v.tokens, v.eos));
}

// tokenizer.ggml.model = "gpt2": byte-level BPE (byte_level_tokenizer).
std::shared_ptr<HfTokenizer> load_gpt2(const io::GgufFile& g, const GgufVocab& v, const BpePre& pre) {
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
                {"byte_fallback", false}, {"ignore_merges", pre.ignore_merges}};
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = pre.pre_tokenizer;
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
  json unk_token = nullptr;
  if (gemma) unk_token = "<unk>";
  else if (flavor == SpmFlavor::kSpmBpe && v.unk) unk_token = spelled[*v.unk];
  json j;
  j["model"] = {{"type", "BPE"},       {"vocab", vocab},      {"merges", std::move(jmerges)},
                {"fuse_unk", true},    {"byte_fallback", true}, {"ignore_merges", false},
                {"unk_token", unk_token}};
  json decoders = json::array({{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                               {{"type", "ByteFallback"}},
                               {{"type", "Fuse"}}});
  const bool space_prefix = flavor == SpmFlavor::kLlama && g.get_bool("tokenizer.ggml.add_space_prefix", true);
  if (space_prefix) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  const json replace_spaces = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}};
  switch (flavor) {
    case SpmFlavor::kLlama:
      if (space_prefix)
        j["normalizer"] = {{"type", "Sequence"},
                           {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, replace_spaces}}};
      else
        j["normalizer"] = replace_spaces;
      j["pre_tokenizer"] = nullptr;
      break;
    case SpmFlavor::kGemma:
      j["normalizer"] = replace_spaces;
      j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"},
                            {"invert", false}};
      break;
    case SpmFlavor::kSpmBpe:
      j["normalizer"] = replace_spaces;
      j["pre_tokenizer"] = nullptr;
      break;
  }
  j["post_processor"] = post_processor(v, vocab, add_bos, g.get_bool("tokenizer.ggml.add_eos_token", false));

  // The order transformers adds them in, which decides the ids of tokens the vocabulary lacks:
  // the tokenizer class's own specials, the file's control tokens, its user-defined tokens, then
  // the special tokens the file names by id.
  AddedList added(vocab);
  std::vector<std::string> class_specials;
  if (gemma) class_specials = {"<bos>", "<eos>", "<unk>", "<pad>", "<mask>"};
  else if (flavor == SpmFlavor::kLlama) class_specials = {"<s>", "</s>", "<unk>"};
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

// tokenizer.ggml.model = "whitespace" (and a gpt2 file whose pre is "whitespace"; jina-embeddings-
// v2-base-zh): BPE over raw UTF-8 tokens (no byte-level alphabet) on the words between whitespace,
// which is dropped (llama.cpp's whitespace session; tokenizers' WhitespaceSplit), lowercased first
// when tokenizer.ggml.normalizer.lowercase says so; a character no merge reaches falls back to
// <0xXX> tokens where the vocabulary has them. No decoder (tokens are joined with spaces).
std::shared_ptr<HfTokenizer> load_whitespace_bpe(const io::GgufFile& g, const GgufVocab& v) {
  for (size_t id = 0; id < v.tokens.size(); ++id)
    BREADTH_CHECK_FORMAT(is_valid_utf8(v.tokens[id]), "{}: token {} of tokenizer.ggml.tokens is not valid UTF-8",
                         v.where, id);
  json vocab = json::object();
  for (size_t id = 0; id < v.tokens.size(); ++id) vocab[v.tokens[id]] = static_cast<int64_t>(id);
  json jmerges = json::array();
  for (const auto& m : g.get_string_array("tokenizer.ggml.merges")) jmerges.push_back(m);
  json j;
  j["model"] = {{"type", "BPE"},        {"vocab", vocab},        {"merges", std::move(jmerges)},
                {"fuse_unk", false},    {"byte_fallback", true}, {"ignore_merges", false},
                {"unk_token", v.unk ? json(v.tokens[*v.unk]) : json(nullptr)}};
  j["normalizer"] = g.get_bool("tokenizer.ggml.normalizer.lowercase", false) ? json{{"type", "Lowercase"}}
                                                                              : json(nullptr);
  j["pre_tokenizer"] = {{"type", "WhitespaceSplit"}};
  j["decoder"] = nullptr;
  j["post_processor"] = post_processor(v, vocab, g.get_bool("tokenizer.ggml.add_bos_token", false),
                                       g.get_bool("tokenizer.ggml.add_eos_token", false));
  AddedList added(vocab);
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kControl) added.add(v.tokens[id], true);
  for (size_t id = 0; id < v.types.size(); ++id)
    if (v.type(id) == kUserDefined) added.add(v.tokens[id], false);
  for (auto id : {v.bos, v.eos, v.unk, v.pad})
    if (id) added.add(v.tokens[*id], true);
  j["added_tokens"] = added.take();
  return HfTokenizer::from_json(j, v.where);
}

// tokenizer.ggml.model = "rwkv": the RWKV world trie tokenizer over the unescaped token bytes.
// Normal tokens are matched greedily (longest first); control and user-defined tokens are
// recognised in the text as added tokens; unused ([PADn]) slots keep their ids but are never matched.
std::shared_ptr<RwkvTokenizer> load_rwkv(const io::GgufFile& g, const GgufVocab& v) {
  (void)g;
  std::vector<std::string> bytes(v.tokens.size());
  std::vector<bool> in_trie(v.tokens.size(), false);
  std::vector<AddedToken> added;
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const int64_t type = v.type(id);
    if (type == kControl || type == kUserDefined) {
      // Stored as their own text ("<s>"), as llama.cpp matches them.
      bytes[id] = v.tokens[id];
      AddedToken a;
      a.content = v.tokens[id];
      a.id = static_cast<int32_t>(id);
      a.special = type == kControl;
      added.push_back(std::move(a));
      continue;
    }
    bytes[id] = unescape_rwkv_token(v.tokens[id], v.where);
    in_trie[id] = type != kUnused;
  }
  std::optional<int32_t> unk;
  if (v.unk) unk = static_cast<int32_t>(*v.unk);
  return std::make_shared<RwkvTokenizer>(std::move(bytes), in_trie, std::move(added), unk);
}

// A [CLS] $A [SEP]-style template from the ids of the tokens before and after the sequence.
json template_post(const json& vocab, const std::vector<std::string>& before, const std::vector<std::string>& after) {
  json single = json::array(), specials = json::object();
  auto item = [&](const std::string& t) {
    single.push_back({{"SpecialToken", {{"id", t}, {"type_id", 0}}}});
    specials[t] = {{"id", t}, {"ids", {vocab.at(t).get<int64_t>()}}, {"tokens", {t}}};
  };
  for (const auto& t : before) item(t);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  for (const auto& t : after) item(t);
  return {{"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", specials}};
}

// tokenizer.ggml.model = "bert" (llama.cpp's WPM): a BERT WordPiece vocabulary as llama.cpp's
// converter stores it, word-initial pieces with a leading ▁ and continuation pieces bare; rebuilt
// as the model's tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece with ##).
std::shared_ptr<HfTokenizer> load_bert(const io::GgufFile& g, GgufVocab& v) {
  const std::string kPhantom = "\xE2\x96\x81";
  std::vector<std::string> pieces(v.tokens.size());
  bool cased = false;
  json vocab = json::object();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string& t = v.tokens[id];
    std::string& w = pieces[id];
    if (t.size() >= 2 && t.front() == '[' && t.back() == ']') w = t;
    else if (t.rfind(kPhantom, 0) == 0) w = t.substr(kPhantom.size());
    else w = "##" + t;
    if (w.front() != '[')
      for (char c : w) cased = cased || (c >= 'A' && c <= 'Z');
    vocab[w] = static_cast<int64_t>(id);
  }
  auto name_of = [&](std::optional<int64_t> id, int64_t fallback) -> std::string {
    const int64_t i = id.value_or(fallback);
    return i >= 0 && static_cast<size_t>(i) < pieces.size() ? pieces[i] : std::string();
  };
  const auto cls = g.find_int("tokenizer.ggml.cls_token_id").has_value() ? g.find_int("tokenizer.ggml.cls_token_id")
                                                                          : v.bos;
  const auto sep = g.find_int("tokenizer.ggml.seperator_token_id");
  const auto mask = g.find_int("tokenizer.ggml.mask_token_id");
  for (const auto& [key, id] : {std::pair{"cls_token_id", cls}, {"seperator_token_id", sep}, {"mask_token_id", mask}})
    BREADTH_CHECK_FORMAT(!id || (*id >= 0 && static_cast<uint64_t>(*id) < v.tokens.size()),
                         "{}: tokenizer.ggml.{} = {} is outside the vocabulary of {} tokens", v.where, key, *id,
                         v.tokens.size());
  const std::string unk = name_of(v.unk, 100);
  BREADTH_CHECK_FORMAT(!unk.empty(), "{}: a 'bert' vocabulary needs tokenizer.ggml.unknown_token_id", v.where);

  json j;
  // The files do not record do_lower_case; an uncased vocabulary has no capital letters outside
  // its [SPECIAL] tokens.
  j["normalizer"] = {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                     {"strip_accents", nullptr}, {"lowercase", !cased}};
  j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  j["model"] = {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", unk},
                {"continuing_subword_prefix", "##"}, {"max_input_chars_per_word", 100}};
  j["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};
  const std::string cls_name = name_of(cls, -1), sep_name = name_of(sep, -1);
  const bool add_cls = g.get_bool("tokenizer.ggml.add_bos_token", true) && !cls_name.empty();
  const bool add_sep = g.get_bool("tokenizer.ggml.add_sep_token", true) && !sep_name.empty();
  j["post_processor"] = template_post(vocab, add_cls ? std::vector<std::string>{cls_name} : std::vector<std::string>{},
                                      add_sep ? std::vector<std::string>{sep_name} : std::vector<std::string>{});
  AddedList added(vocab);
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.type(id) == kControl || v.type(id) == kUserDefined) added.add(pieces[id], v.type(id) == kControl);
  for (auto id : {v.unk, cls, sep, v.pad, mask})
    if (id) added.add(pieces[*id], true);
  j["added_tokens"] = added.take();
  auto t = HfTokenizer::from_json(j, v.where);
  // bos/eos of an encoder vocabulary: [CLS] and [SEP].
  v.bos = cls;
  v.eos = sep;
  v.tokens = pieces;
  return t;
}

// tokenizer.ggml.model = "t5" (llama.cpp's UGM): a SentencePiece unigram vocabulary as llama.cpp's
// converter stores it, rebuilt as the tokenizer.json transformers makes of the model's spiece.model
// (T5Tokenizer; XLMRobertaTokenizer has the same stages): the Precompiled normalizer from
// tokenizer.ggml.precompiled_charsmap, WhitespaceSplit then Metaspace (prepend "always", or "never"
// when add_space_prefix is false), Unigram with unk, decoder Metaspace.
std::shared_ptr<HfTokenizer> load_ugm(const io::GgufFile& g, const GgufVocab& v) {
  for (size_t id = 0; id < v.tokens.size(); ++id)
    BREADTH_CHECK_FORMAT(is_valid_utf8(v.tokens[id]), "{}: token {} of tokenizer.ggml.tokens is not valid UTF-8",
                         v.where, id);
  auto scores = g.find_float_array("tokenizer.ggml.scores");
  BREADTH_CHECK_FORMAT(scores.has_value(), "{}: a 't5' vocabulary needs tokenizer.ggml.scores", v.where);
  BREADTH_CHECK_FORMAT(scores->size() == v.tokens.size(), "{}: tokenizer.ggml.scores has {} entries for {} tokens",
                       v.where, scores->size(), v.tokens.size());
  // The unknown piece: the file's unknown_token_id, else the token typed UNKNOWN.
  std::optional<int64_t> unk = v.unk;
  for (size_t id = 0; !unk && id < v.types.size(); ++id)
    if (v.type(id) == kUnknown) unk = static_cast<int64_t>(id);
  BREADTH_CHECK_FORMAT(unk.has_value(), "{}: a 't5' vocabulary needs tokenizer.ggml.unknown_token_id or an UNKNOWN token",
                       v.where);

  // Pieces as transformers holds them: normal (and byte) pieces with their scores; control,
  // unknown and user-defined pieces score 0 (SentencePiece's control/unk score; T5Tokenizer's
  // sentinels), so the unknown score (lowest score - 10) is the one of the model's own pieces.
  // Unused slots (the converter's [PADn] padding past the model's vocabulary) are no pieces of the
  // reference: they keep their id but are spelled with a leading space, which no word holds after
  // WhitespaceSplit, so text never reaches them.
  json pieces = json::array();
  json by_text = json::object();
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const double s = (*scores)[id];
    BREADTH_CHECK_FORMAT(!std::isnan(s), "{}: tokenizer.ggml.scores[{}] is NaN", v.where, id);
    const int64_t type = v.type(id);
    const bool normal = type == kNormal || type == kByte;
    std::string text = v.tokens[id];
    if (type == kUnused) text = " " + text;
    else if (!by_text.contains(text)) by_text[text] = static_cast<int64_t>(id);
    pieces.push_back(json::array({text, normal ? s : 0.0}));
  }

  json j;
  if (auto cm = g.find_int_array("tokenizer.ggml.precompiled_charsmap"); cm && !cm->empty()) {
    std::string blob;
    blob.reserve(cm->size());
    for (size_t i = 0; i < cm->size(); ++i) {
      const int64_t b = (*cm)[i];
      BREADTH_CHECK_FORMAT(b >= -128 && b <= 255, "{}: tokenizer.ggml.precompiled_charsmap[{}] = {} is not a byte",
                           v.where, i, b);
      blob.push_back(static_cast<char>(static_cast<uint8_t>(b & 0xFF)));
    }
    j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", base64_encode(blob)}};
  } else {
    j["normalizer"] = nullptr;
  }
  const std::string scheme = g.get_bool("tokenizer.ggml.add_space_prefix", true) ? "always" : "never";
  const json metaspace = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", scheme},
                          {"split", true}};
  j["pre_tokenizer"] = sequence_stage(json::array({{{"type", "WhitespaceSplit"}}, metaspace}));
  j["model"] = {{"type", "Unigram"}, {"vocab", std::move(pieces)}, {"unk_id", *unk}, {"byte_fallback", false}};
  j["decoder"] = metaspace;
  // llama.cpp's UGM adds EOS and no BOS unless the file says otherwise (T5: "$A </s>").
  j["post_processor"] = post_processor(v, by_text, g.get_bool("tokenizer.ggml.add_bos_token", false),
                                       g.get_bool("tokenizer.ggml.add_eos_token", true));

  // Added tokens: control and unknown pieces special; user-defined pieces plain, except T5Tokenizer's
  // own sentinels <extra_id_N> (its additional special tokens); then the specials the file names.
  auto sentinel = [](const std::string& t) {
    static const std::string pre = "<extra_id_";
    if (t.size() <= pre.size() + 1 || t.compare(0, pre.size(), pre) != 0 || t.back() != '>') return false;
    for (size_t i = pre.size(); i + 1 < t.size(); ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  AddedList added(by_text);
  for (size_t id = 0; id < v.types.size(); ++id) {
    const int64_t type = v.type(id);
    if (type == kControl || type == kUnknown) added.add(v.tokens[id], true);
    else if (type == kUserDefined) added.add(v.tokens[id], sentinel(v.tokens[id]));
  }
  for (auto id : {v.bos, v.eos, unk, v.pad})
    if (id && v.type(*id) != kUnused) added.add(v.tokens[*id], true);
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
    // A file without tokenizer.ggml.pre gets llama.cpp's "default", as llama.cpp tokenizes it.
    const std::string group = pre_group(g.get_string("tokenizer.ggml.pre", "default"), where);
    if (group == kSpmBpeGroup) t = load_spm_bpe(g, v, SpmFlavor::kSpmBpe, false, false,
                                                g.get_bool("tokenizer.ggml.add_bos_token", false));
    else if (group == kWhitespaceGroup) t = load_whitespace_bpe(g, v);
    else t = load_gpt2(g, v, bpe_pre_for_group(group));
    finish(*t, g, v);
    return t;
  }
  if (model == "whitespace") {
    const GgufVocab v(g);
    const std::string pre = g.get_string("tokenizer.ggml.pre", "whitespace");
    if (pre_group(pre, where) != kWhitespaceGroup)
      fail<Unsupported>("{}: tokenizer.ggml.model 'whitespace' with tokenizer.ggml.pre '{}' is not supported "
                        "(only 'whitespace')",
                        where, pre);
    t = load_whitespace_bpe(g, v);
    finish(*t, g, v);
    return t;
  }
  if (model == "rwkv") {
    const GgufVocab v(g);
    auto r = load_rwkv(g, v);
    finish(*r, g, v);
    return r;
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
      t = load_spm_bpe(g, v, SpmFlavor::kLlama, false, false, add_bos);
    }
    finish(*t, g, v);
    return t;
  }
  if (model == "bert") {
    GgufVocab v(g);
    t = load_bert(g, v);
    finish(*t, g, v);
    return t;
  }
  if (model == "t5") {
    const GgufVocab v(g);
    t = load_ugm(g, v);
    finish(*t, g, v);
    return t;
  }
  fail<Unsupported>("{}: GGUF tokenizer model (tokenizer.ggml.model) '{}' is not supported (supported: gpt2, "
                    "llama, gemma4, bert, t5, rwkv, whitespace)",
                    where, model);
}

}  // namespace breadth::tok
