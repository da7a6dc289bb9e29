// SentencePiece .model files through libsentencepiece, wrapped as a Tokenizer.
#pragma once

#include "breadth/tokenizer.hpp"

namespace breadth::tok {

/// Loads a SentencePiece model. encode() equals SentencePieceProcessor::Encode on each stretch of
/// text between control-token strings (e.g. "<s>"), which are recognized as their ids; add_special
/// prepends BOS when the model has one. Throws IoError/FormatError.
std::shared_ptr<Tokenizer> load_sentencepiece(const std::string& path);

}  // namespace breadth::tok
