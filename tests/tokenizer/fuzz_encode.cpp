// Fuzz target: arbitrary bytes (invalid UTF-8 included) through three small pipelines: byte-level
// BPE with the Llama-3 split regex and added tokens, Metaspace BPE with byte fallback and NFKC, and
// BERT (BertNormalizer + WordPiece). The first byte picks the pipeline. Encoding must succeed,
// decode must give valid UTF-8, and streaming must give the same text for valid output.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "breadth/error.hpp"
#include "tokenizer/hf_tokenizer.hpp"
#include "tokenizer/pipeline.hpp"
#include "core/utf8.hpp"

using nlohmann::json;

namespace {

std::shared_ptr<const breadth::Tokenizer> byte_level() {
  const auto& b2u = breadth::tok::byte_to_unicode();
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[b2u[b]] = b;
  vocab[b2u['h'] + b2u['e']] = 256;
  vocab[b2u[' '] + b2u['t']] = 257;
  json j = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"h e", b2u[' '] + " t"}}}},
            {"normalizer", {{"type", "NFC"}}},
            {"pre_tokenizer",
             {{"type", "Sequence"},
              {"pretokenizers",
               {{{"type", "Split"},
                 {"pattern", {{"Regex", R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
                 {"behavior", "Isolated"}},
                {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
            {"decoder", {{"type", "ByteLevel"}}},
            {"added_tokens", {{{"id", 300}, {"content", "<|x|>"}, {"special", true}, {"normalized", false}},
                              {{"id", 301}, {"content", "ab"}, {"lstrip", true}, {"rstrip", true}, {"single_word", true}}}}};
  return breadth::tok::HfTokenizer::from_json(j, "fuzz-bytelevel");
}

std::shared_ptr<const breadth::Tokenizer> metaspace() {
  json vocab = {{"<unk>", 0}, {"\xE2\x96\x81", 1}, {"a", 2}, {"\xE2\x96\x81" "a", 3}};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab[name] = 4 + b;
  }
  json j = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"\xE2\x96\x81 a"}}, {"unk_token", "<unk>"},
                       {"byte_fallback", true}, {"fuse_unk", true}}},
            {"normalizer", {{"type", "NFKC"}}},
            {"pre_tokenizer", {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}, {"prepend_scheme", "first"}}},
            {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                                              {{"type", "ByteFallback"}}, {{"type", "Fuse"}},
                                                              {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}}};
  return breadth::tok::HfTokenizer::from_json(j, "fuzz-metaspace");
}

std::shared_ptr<const breadth::Tokenizer> bert() {
  json vocab = {{"[UNK]", 0}, {"[CLS]", 1}, {"[SEP]", 2}, {"a", 3}, {"##a", 4}, {"b", 5}, {"##b", 6}, {".", 7}};
  json j = {{"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}, {"max_input_chars_per_word", 20}}},
            {"normalizer", {{"type", "BertNormalizer"}, {"lowercase", true}}},
            {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
            {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 2}}, {"cls", {"[CLS]", 1}}}},
            {"decoder", {{"type", "WordPiece"}}}};
  return breadth::tok::HfTokenizer::from_json(j, "fuzz-bert");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const breadth::Tokenizer> toks[3] = {byte_level(), metaspace(), bert()};
  if (size == 0) return 0;
  const auto& t = toks[data[0] % 3];
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto ids = t->encode(text, true);
  const std::string dec = t->decode(ids, false);
  if (!breadth::tok::is_valid_utf8(dec)) std::abort();
  breadth::IncrementalDecoder d(t);
  std::string streamed;
  for (int32_t id : ids) streamed += d.push(id);
  streamed += d.flush();
  if (!breadth::tok::is_valid_utf8(streamed)) std::abort();
  return 0;
}
