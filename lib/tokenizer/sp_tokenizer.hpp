// SentencePiece .model files through libsentencepiece, wrapped as a Tokenizer.
#pragma once

#include "tokenizer/config_specials.hpp"

namespace breadth::tok {

/// How encode(text, add_special=true) wraps a SentencePiece encoding: `bos` in front when set,
/// `eos` at the end when set (tokenizer_config.json's add_bos_token / add_eos_token, with the ids
/// of its bos_token / eos_token).
struct SpAddSpecial {
  std::optional<int32_t> bos, eos;
};

/// Loads a SentencePiece model. encode() equals SentencePieceProcessor::Encode (so, as in
/// sentencepiece itself, control-token strings such as "<s>" in the text are plain text);
/// add_special prepends the model's BOS when it has one (until set_sentencepiece_add_special says
/// otherwise). decode() equals DecodeIds; skip_special also drops the unknown token. Throws
/// IoError/FormatError.
std::shared_ptr<ConfigurableTokenizer> load_sentencepiece(const std::string& path);

/// Changes what add_special adds to a tokenizer made by load_sentencepiece.
void set_sentencepiece_add_special(ConfigurableTokenizer& t, SpAddSpecial add);

}  // namespace breadth::tok
