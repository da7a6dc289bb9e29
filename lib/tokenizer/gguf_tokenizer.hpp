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
/// "smollm", "gpt-2", "default").
/// `tokenizer.ggml.model` = "llama" (SentencePiece pieces): BPE with byte fallback and a Metaspace
/// prefix, merges from `tokenizer.ggml.merges` or derived from `tokenizer.ggml.scores` exactly as
/// transformers derives them; Gemma architectures respell runs of spaces and order merges by
/// position, Phi-3 prefixes the space in a normalizer; "gemma4" is Gemma's pipeline without BOS.
/// `tokenizer.ggml.pre` values that select no byte-level pipeline: "gemma4", "granite-embed-multi-311m",
/// "sarvam-moe" (SentencePiece-style BPE over raw UTF-8) and "whitespace" (as the "whitespace" model:
/// optional lowercase, WhitespaceSplit, raw BPE). `tokenizer.ggml.model` = "rwkv": the RWKV world
/// trie tokenizer (greedy longest byte match over the unescaped tokens).
/// Control tokens become special added tokens, user-defined ones plain added tokens; BOS/EOS are
/// added as `tokenizer.ggml.add_bos_token` / `add_eos_token` say (BOS on by default for "llama").
/// Throws FormatError/Unsupported.
std::shared_ptr<Tokenizer> load_gguf_tokenizer(const io::GgufFile& gguf);

}  // namespace breadth::tok
