// SentencePiece .model files through libsentencepiece, wrapped as a Tokenizer.
#pragma once

#include "breadth/tokenizer.hpp"

namespace breadth::tok {

/// Loads a SentencePiece model. encode() equals SentencePieceProcessor::Encode (so, as in
/// sentencepiece itself, control-token strings such as "<s>" in the text are plain text);
/// add_special prepends BOS when the model has one. decode() equals DecodeIds; skip_special also
/// drops the unknown token. Throws IoError/FormatError.
std::shared_ptr<Tokenizer> load_sentencepiece(const std::string& path);

}  // namespace breadth::tok
