// Normalizers of tokenizer.json ("normalizer" key): NFC/NFD/NFKC/NFKD, Lowercase, StripAccents,
// Strip, Prepend, Replace, Nmt, BertNormalizer, Precompiled (SentencePiece charsmaps) and Sequence.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/pipeline.hpp"

namespace breadth::tok {

/// Builds the normalizer described by `j` (null gives nullptr). Throws FormatError for malformed
/// entries and Unsupported for types breadth does not implement; `where` names the file.
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& j, std::string_view where);

}  // namespace breadth::tok
