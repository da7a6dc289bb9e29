// Tokenizers embedded in GGUF files (llama.cpp metadata), built the way transformers'
// `AutoTokenizer.from_pretrained(dir, gguf_file=...)` builds them, so ids agree with that reference.
#pragma once

#include <memory>
#include <string>

#include "breadth/tokenizer.hpp"

namespace breadth::io {
class GgufFile;
}

namespace breadth::tok {

/// `tokenizer.ggml.model` = "gpt2": byte-level BPE with `tokenizer.ggml.merges`; the pre-tokenizer
/// regex follows `tokenizer.ggml.pre` ("llama-bpe"/"llama3", "qwen2", ..., GPT-2's otherwise, e.g.
/// "smollm", "gpt-2", "default"). Control tokens become special added tokens, user-defined ones plain
/// added tokens. `tokenizer.ggml.model` = "llama": SentencePiece-style BPE with byte fallback, merges
/// from the file or derived from the scores. Throws FormatError/Unsupported.
std::shared_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& gguf);

}  // namespace breadth::tok
