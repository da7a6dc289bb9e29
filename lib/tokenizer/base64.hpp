// Standard base64 (RFC 4648, with padding), as tokenizer.json stores binary blobs (the Precompiled
// normalizer's charsmap).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace breadth::tok {

/// The bytes `text` encodes, or nullopt when it is not canonical padded base64 (a character outside
/// the alphabet, a length that is not a multiple of 4, misplaced '=' or non-zero padding bits).
std::optional<std::string> base64_decode(std::string_view text);

/// `bytes` as canonical padded base64 (what base64_decode reads back).
std::string base64_encode(std::string_view bytes);

}  // namespace breadth::tok
