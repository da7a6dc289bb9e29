// Pre-tokenizers of tokenizer.json ("pre_tokenizer" key): ByteLevel, Split, Metaspace, Digits,
// Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit and Sequence.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/pipeline.hpp"

namespace breadth::tok {

/// The pre-tokenizer regex of GPT-2 (ByteLevel with use_regex).
extern const char* const kGpt2Pattern;

/// Builds the pre-tokenizer described by `j` (null gives nullptr). Throws FormatError/Unsupported.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& j, std::string_view where);

/// Maps every byte of `s` to its GPT-2 printable character.
std::string bytes_to_unicode_string(std::string_view s);

}  // namespace breadth::tok
