// Decoders of tokenizer.json ("decoder" key) and post-processors ("post_processor" key).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/pipeline.hpp"

namespace breadth::tok {

/// Builds the decoder described by `j` (null gives nullptr: tokens are then joined by spaces).
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& j, std::string_view where);

/// Builds the post-processor described by `j` (null gives nullptr). TemplateProcessing resolves its
/// special tokens through the ids listed in the template itself.
std::unique_ptr<PostProcessor> make_post_processor(const nlohmann::json& j, std::string_view where);

}  // namespace breadth::tok
